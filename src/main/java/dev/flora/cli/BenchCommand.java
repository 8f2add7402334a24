package dev.flora.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Precision;
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
        description = "Training images/s, single-image latency (median, ms) and throughput at an inference batch "
                + "of a model, on this machine.")
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = ModelSource.DEFAULT, paramLabel = "PATH|NAME",
            description = "A safetensors file, or the name of a bundled model or of a preset (randomly initialised; an "
                    + "unknown name lists them) (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--train-steps", defaultValue = "40", description = "Timed training steps; 0 times no training "
            + "(default: ${DEFAULT-VALUE}).")
    int trainSteps;

    @Option(names = "--train-batch", defaultValue = "128", description = "Images per training step (default: "
            + "${DEFAULT-VALUE}).")
    int trainBatch;

    @Option(names = "--infer-batch", defaultValue = "256", description = "Images per batch of the throughput figure "
            + "(default: ${DEFAULT-VALUE}).")
    int inferBatch;

    @Option(names = "--warmup-steps", defaultValue = "60", description = "Untimed training steps before the timed "
            + "ones, for the JIT compiler to settle (default: ${DEFAULT-VALUE}).")
    int warmupSteps;

    @Option(names = "--latency-calls", defaultValue = "200", description = "Timed single-image calls (default: "
            + "${DEFAULT-VALUE}).")
    int latencyCalls;

    @Option(names = "--batches", defaultValue = "10", description = "Timed inference batches (default: "
            + "${DEFAULT-VALUE}).")
    int batches;

    @Option(names = "--json", description = "Print one JSON line instead of text.")
    boolean json;

    @Mixin
    DeviceOption device;

    @Mixin
    PrecisionOption precision;

    @Override
    public Integer call() {
        if (trainSteps < 0 || latencyCalls < 1 || batches < 1 || trainBatch < 1 || inferBatch < 1) {
            throw new IllegalArgumentException("--latency-calls, --batches, --train-batch and --infer-batch must be "
                    + "positive and --train-steps not negative");
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("--warmup-steps must not be negative, got " + warmupSteps);
        }
        PrintStream log = json ? System.err : System.out;
        Backend backend = device.create(log, precision.value());
        VisionTransformer m = ModelSource.load(model, backend, OptionalInt.empty());
        if (backend.name().startsWith("cpu")) {
            OpenBlasKernels.inheritedPinNote().ifPresent(note -> System.err.println("note: " + note));
        }
        VisionTransformer trainingModel = m;
        if (trainSteps > 0 && backend.inferenceOnly()) {
            // bf16 inference keeps converted weights; training is timed on the mixed-precision backend
            trainingModel = ModelSource.load(model, device.createForTraining(log, precision.value()),
                    OptionalInt.empty());
        }
        ModelBenchmark.Result r = ModelBenchmark.run(m, trainingModel,
                new ModelBenchmark.Plan(trainBatch, warmupSteps, trainSteps, latencyCalls, inferBatch, batches));
        String throughputKey = "infer_b" + inferBatch + "_img_per_s";
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            if (!Double.isNaN(r.trainImgPerSecond())) {
                o.put("train_img_per_s", r.trainImgPerSecond());
                o.put("train_batch", trainBatch);
            }
            o.put("infer_b1_ms", r.inferB1Millis());
            o.put(throughputKey, r.inferImgPerSecond());
            o.put("precision", backend instanceof CpuBackend cpu ? cpu.precision().label() : backend.name());
            o.put("blas_kernels", blasKernels(backend));
            o.put("row_kernels", rowKernels(backend));
            System.out.println(o);
        } else {
            System.out.printf(Locale.ROOT, "model                %s (%.1fM FLOPs, runs %.1fM)%n", model,
                    m.macsPerImage() / 1e6, m.executedMacsPerImage() / 1e6);
            if (!Double.isNaN(r.trainImgPerSecond())) {
                System.out.printf(Locale.ROOT, "%-20s %.1f img/s%n", "training, batch " + trainBatch,
                        r.trainImgPerSecond());
            }
            System.out.printf(Locale.ROOT, "inference, batch 1   %.3f ms (median)%n", r.inferB1Millis());
            System.out.printf(Locale.ROOT, "%-20s %.1f img/s%n", "inference, batch " + inferBatch,
                    r.inferImgPerSecond());
            System.out.printf(Locale.ROOT, "GEMM kernels         %s%n", blasKernels(backend));
            System.out.printf(Locale.ROOT, "row kernels          %s%n", rowKernels(backend));
        }
        return 0;
    }

    /** What ran layernorm, softmax and GELU on the CPU (the Vector API or scalar loops; see CpuBackend). */
    private static String rowKernels(Backend backend) {
        return backend instanceof CpuBackend cpu ? cpu.rowKernels() : backend.name();
    }

    /** Which libraries, on which instruction set, ran the CPU's products (they set the speed). */
    private static String blasKernels(Backend backend) {
        String bf16 = "oneDNN bf16 on " + CpuBackend.oneDnnIsa(Precision.BF16);
        String fp32 = "oneDNN fp32 on " + CpuBackend.oneDnnIsa(Precision.FP32);
        if (backend.name().equals("cpu/bf16-training")) {
            return bf16 + " (linear layers, attention), OpenBLAS " + OpenBlasKernels.coreName() + " (patch embedding)";
        }
        if (backend.name().startsWith("cpu/bf16")) {
            return bf16 + " (linear layers, attention, patch embedding, layer norm)";
        }
        if (backend.name().equals("cpu/fp32-inference")) {
            return fp32 + " (linear layers, attention, patch embedding, layer norm)";
        }
        return backend.name().equals("cpu") ? "OpenBLAS " + OpenBlasKernels.coreName()
                + " (linear layers, patch embedding), " + fp32 + " (attention)" : backend.name();
    }
}
