package dev.flora.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.cpu.OpenBlasKernels;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.models.ModelSource;
import dev.flora.perf.ModelBenchmark;
import java.io.PrintStream;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flora bench}: training and inference speed of a model on this machine. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Training images/s at batch 128, single-image latency (median, ms) and throughput at batch "
                + "256 of a model, on this machine.")
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = ModelSource.DEFAULT, paramLabel = "PATH|NAME",
            description = "A safetensors file, or the name of a bundled model or of a preset (randomly initialised; an "
                    + "unknown name lists them) (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--train-steps", defaultValue = "40", description = "Timed training steps (default: "
            + "${DEFAULT-VALUE}).")
    int trainSteps;

    @Option(names = "--warmup-steps", defaultValue = "60", description = "Untimed training steps before the timed "
            + "ones, for the JIT compiler to settle (default: ${DEFAULT-VALUE}).")
    int warmupSteps;

    @Option(names = "--latency-calls", defaultValue = "200", description = "Timed single-image calls (default: "
            + "${DEFAULT-VALUE}).")
    int latencyCalls;

    @Option(names = "--batches", defaultValue = "10", description = "Timed batches of 256 (default: ${DEFAULT-VALUE}).")
    int batches;

    @Option(names = "--json", description = "Print one JSON line instead of text.")
    boolean json;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() {
        if (trainSteps < 1 || latencyCalls < 1 || batches < 1) {
            throw new IllegalArgumentException("--train-steps, --latency-calls and --batches must be positive");
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("--warmup-steps must not be negative, got " + warmupSteps);
        }
        PrintStream log = json ? System.err : System.out;
        Backend backend = device.create(log);
        VisionTransformer m = ModelSource.load(model, backend, OptionalInt.empty());
        if (backend.name().equals("cpu")) {
            OpenBlasKernels.inheritedPinNote().ifPresent(note -> System.err.println("note: " + note));
        }
        ModelBenchmark.Result r = ModelBenchmark.run(m, warmupSteps, trainSteps, latencyCalls, batches);
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("train_img_per_s", r.trainImgPerSecond());
            o.put("infer_b1_ms", r.inferB1Millis());
            o.put("infer_b256_img_per_s", r.inferB256ImgPerSecond());
            o.put("blas_kernels", blasKernels(backend));
            o.put("row_kernels", rowKernels(backend));
            System.out.println(o);
        } else {
            System.out.printf(Locale.ROOT, "model                %s (%.1fM FLOPs, runs %.1fM)%n", model,
                    m.macsPerImage() / 1e6, m.executedMacsPerImage() / 1e6);
            System.out.printf(Locale.ROOT, "training, batch 128  %.1f img/s%n", r.trainImgPerSecond());
            System.out.printf(Locale.ROOT, "inference, batch 1   %.3f ms (median)%n", r.inferB1Millis());
            System.out.printf(Locale.ROOT, "inference, batch 256 %.1f img/s%n", r.inferB256ImgPerSecond());
            System.out.printf(Locale.ROOT, "GEMM kernels         %s%n", blasKernels(backend));
            System.out.printf(Locale.ROOT, "row kernels          %s%n", rowKernels(backend));
        }
        return 0;
    }

    /** What ran layernorm, softmax and GELU on the CPU (the Vector API or scalar loops; see CpuBackend). */
    private static String rowKernels(Backend backend) {
        return backend instanceof CpuBackend cpu ? cpu.rowKernels() : backend.name();
    }

    /** Which OpenBLAS kernels ran the CPU GEMMs (they set the speed; see OpenBlasKernels). */
    private static String blasKernels(Backend backend) {
        return backend.name().equals("cpu") ? "OpenBLAS " + OpenBlasKernels.coreName() : backend.name();
    }
}
