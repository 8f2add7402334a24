package dev.flora.bench;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.cpu.OpenBlasKernels;
import dev.flora.engine.cuda.Devices;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a forward (or a training step's forward and backward) spends its time, op by op: every
 * call into the backend is timed through a proxy, GEMMs are told apart by their shapes. The
 * proxy adds a fixed cost per call, which matters at batch 1 only, where ops are shortest.
 * When a batch runs in lanes (32 images or more on the CPU backend), {@code runLanes} is the
 * lanes' wall time and the ops inside it are summed over the workers, so the op times add up
 * to more than the total; run one lane on one thread ({@code -Dflora.threads=1}, batch 16) to
 * see where a lane's time goes.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.flora.bench.OpProfile random|deit-tiny|deit-small|deit-base|MODEL.safetensors \
 *     BATCH ITERATIONS [train|infer] [fp32|bf16]
 * </pre>
 */
public final class OpProfile {
    /** Time and call count of one op (or one GEMM shape). */
    public record Entry(String op, long nanos, long calls) {
    }

    /** The per-op entries, slowest first, and the wall time of all iterations. */
    public record Report(Map<String, Entry> entries, long totalNanos, int iterations) {
        public void print(PrintStream out) {
            out.printf(Locale.ROOT, "total %.3f ms per iteration%n", totalNanos / 1e6 / iterations);
            entries.values().stream().sorted(Comparator.comparingLong(Entry::nanos).reversed()).forEach(e -> out.printf(
                    Locale.ROOT, "%-44s %9.3f ms %5.1f %% %5d calls%n", e.op(), e.nanos() / 1e6 / iterations,
                    100.0 * e.nanos() / totalNanos, e.calls() / iterations));
        }
    }

    private OpProfile() {
    }

    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: OpProfile random|deit-tiny|deit-small|deit-base|MODEL.safetensors BATCH "
                    + "ITERATIONS [train|infer] [fp32|bf16]");
            System.exit(2);
        }
        String model = args[0];
        int batch = Integer.parseInt(args[1]);
        int iterations = Integer.parseInt(args[2]);
        boolean train = args.length > 3 && args[3].equals("train");
        Precision precision = args.length > 4 ? Precision.parse(args[4], "precision") : Precision.FP32;
        // the backend the CLI would open: inference ones keep converted weights and cannot train
        CpuBackend cpu = (CpuBackend) (train ? Devices.openForTraining("cpu", precision) : Devices.cpu(precision, ""))
                .backend();
        System.out.println("GEMM kernels: OpenBLAS " + OpenBlasKernels.coreName() + ", backend " + cpu.name());
        System.out.println("row kernels: " + cpu.rowKernels());
        Map<String, ViTConfig> presets = Map.of("random", ViTConfig.vitFmnist(), "deit-tiny", ViTConfig.deitTiny(),
                "deit-small", ViTConfig.deitSmall(), "deit-base", ViTConfig.deitBase());
        profile(cpu, backend -> presets.containsKey(model) ? random(backend, presets.get(model))
                : ModelIO.load(Path.of(model), backend, OptionalInt.empty()), batch, iterations, train)
                .print(System.out);
    }

    private static VisionTransformer random(Backend backend, ViTConfig config) {
        VisionTransformer vit = new VisionTransformer(backend, config);
        ViTInitializer.initialize(vit, 1);
        return vit;
    }

    /** Builds the model on a timing proxy of {@code backend}, warms up once, then times. */
    public static Report profile(Backend backend, java.util.function.Function<Backend, VisionTransformer> build,
                                 int batch, int iterations, boolean train) {
        // lanes call the proxy from several workers at once
        Map<String, Entry> entries = new ConcurrentHashMap<>();
        Backend timed = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, a) -> {
                    long t0 = System.nanoTime();
                    try {
                        return method.invoke(backend, a);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    } finally {
                        long dt = System.nanoTime() - t0;
                        entries.merge(label(method.getName(), a), new Entry(label(method.getName(), a), dt, 1),
                                (x, y) -> new Entry(x.op(), x.nanos() + y.nanos(), x.calls() + 1));
                    }
                });
        VisionTransformer vit = build.apply(timed);
        ViTConfig c = vit.config();
        Tensor x = timed.allocate(batch * c.imageSize());
        timed.fill(x, 0.3f);
        Tensor dLogits = timed.allocate(batch * c.numClasses());
        int[] labels = new int[batch];
        Arrays.setAll(labels, i -> i % c.numClasses());
        long total = 0;
        for (int pass = 0; pass < 2; pass++) { // the first pass warms up the JIT and the buffers
            entries.clear();
            long t0 = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                if (train) {
                    vit.arena().zeroGrads();
                }
                Tensor logits = train ? vit.forward(x, batch) : vit.infer(x, batch);
                if (train) {
                    timed.crossEntropy(logits, labels, dLogits, batch, c.numClasses(), 0.1f, 1f / batch, false);
                    vit.backward(dLogits);
                }
            }
            total = System.nanoTime() - t0;
        }
        return new Report(Map.copyOf(entries), total, iterations);
    }

    /**
     * The op's name; GEMMs with transposes, m, n, k and the batch count; linear layers (dense or
     * factorized, with the rank) with rows, in and out, and whether they add a residual.
     */
    static String label(String op, Object[] a) {
        if (op.equals("linearForward")) {
            return op + " " + a[5] + "x" + a[6] + "->" + a[7] + (a[3] != null ? " +residual" : "");
        }
        if (op.equals("lowRankForward")) {
            return op + " " + a[7] + "x" + a[8] + "->" + a[9] + " r" + a[10] + (a[4] != null ? " +residual" : "");
        }
        if (!op.startsWith("gemm")) {
            return op;
        }
        String t = (Boolean.TRUE.equals(a[0]) ? "T" : "N") + (Boolean.TRUE.equals(a[1]) ? "T" : "N");
        String shape = t + " " + a[2] + "x" + a[3] + "x" + a[4];
        return op.equals("gemmStridedBatched") ? op + " " + shape + " x" + a[a.length - 1] : op + " " + shape;
    }
}
