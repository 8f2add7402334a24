package dev.flora.engine.cuda;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.cpu.CpuBackend;

/**
 * Opens the backend a {@code --device} value names: {@code cpu}, {@code cuda} (a real GPU),
 * {@code cuda-emulated} (the CUDA backend on the emulated device) or {@code auto} (a GPU where
 * one is usable, else the CPU). The line it returns says which, and why. The fused low-rank
 * kernels' arithmetic is fp32 unless {@code -Dflora.cuda.precision=tf32|bf16} or a precision
 * is given; the CPU runs fp32 unless bf16 is given. For inference ({@link #open(String, Precision)})
 * the CPU's linear layers run through oneDNN on weights it copies once (bf16, or fp32 with
 * {@code -Dflora.cpu.fp32-inference=onednn}, the default); for training ({@link #openForTraining})
 * bf16 converts them on every product and fp32 runs on OpenBLAS.
 */
public final class Devices {
    /** The system property that picks the fp32 inference products' library on the CPU. */
    public static final String FP32_INFERENCE = "flora.cpu.fp32-inference";

    private Devices() {
    }

    /** A backend and the one line that says what it is and why it was chosen. */
    public record Opened(Backend backend, String line) {
    }

    /** What the backend will run: both passes, or only inference (weights taken to be constant). */
    private enum Use {
        TRAINING, INFERENCE
    }

    /**
     * A GPU in the precision -Dflora.cuda.precision names (default fp32); the CPU in fp32. The
     * backend can train.
     */
    public static Opened open(String spec) {
        Precision gpu = Precision.parse(System.getProperty("flora.cuda.precision", "fp32"), "-Dflora.cuda.precision");
        return open(spec, gpu, Precision.FP32, Use.TRAINING);
    }

    /** {@link #open(String)} for inference only (see {@link #open(String, Precision)}). */
    public static Opened openForInference(String spec) {
        Precision gpu = Precision.parse(System.getProperty("flora.cuda.precision", "fp32"), "-Dflora.cuda.precision");
        return open(spec, gpu, Precision.FP32, Use.INFERENCE);
    }

    /**
     * The name of the backend that inference on {@code b}'s device runs on: where {@code b} is
     * the CPU's training backend in fp32, that of the fp32 backend {@link #open(String, Precision)}
     * opens, else b's own. Latency tables are keyed by it: they time inference, and a search
     * that trains on the CPU predicts the latency of what inference will run.
     */
    public static String inferenceName(Backend b) {
        return b.name().equals(CpuBackend.TRAINING_NAME) && fp32InferenceOnOneDnn() ? CpuBackend.FP32_INFERENCE_NAME
                : b.name();
    }

    /**
     * The backend to time inference on for {@code b}'s device, as {@link #inferenceName} names it:
     * b itself, or, for the CPU's fp32 training backend, a new fp32 inference backend, which the
     * caller closes (it is not b).
     */
    public static Backend inferenceBackendLike(Backend b) {
        return inferenceName(b).equals(b.name()) ? b : CpuBackend.fp32Inference();
    }

    /**
     * {@link #open(String)} with the given precision on whichever device opens, for inference
     * only: on the CPU the linear layers then run through oneDNN on weights it copies once
     * ({@link #cpu(Precision, String)}).
     */
    public static Opened open(String spec, Precision precision) {
        return open(spec, precision, precision, Use.INFERENCE);
    }

    /**
     * {@link #open(String, Precision)} for training: on the CPU, bf16 is
     * {@link CpuBackend#mixedPrecisionTraining() mixed-precision training}.
     */
    public static Opened openForTraining(String spec, Precision precision) {
        return open(spec, precision, precision, Use.TRAINING);
    }

    /**
     * The CPU for inference in {@code precision} where it can run it, else in fp32 with the line
     * saying why: tf32 is a GPU format, and bf16 needs AVX512-BF16. In fp32 the linear layers run
     * on oneDNN's fp32 kernels ({@link CpuBackend#fp32Inference()}) unless
     * {@code -Dflora.cpu.fp32-inference=openblas}.
     */
    public static Opened cpu(Precision precision, String qualifier) {
        return cpu(precision, qualifier, Use.INFERENCE);
    }

    private static Opened cpu(Precision precision, String qualifier, Use use) {
        String prefix = "device: cpu" + qualifier;
        if (precision == Precision.FP32) {
            return fp32(prefix, use);
        }
        String why = precision == Precision.TF32 ? "tf32 is a GPU format" : CpuBackend.bf16UnsupportedReason();
        if (why != null) {
            Opened fp32 = fp32(prefix, use);
            return new Opened(fp32.backend(), fp32.line() + " (" + precision.label() + " asked for, but " + why + ")");
        }
        if (use == Use.TRAINING) {
            return new Opened(CpuBackend.mixedPrecisionTraining(), prefix + ", mixed precision: bf16 linear-layer and "
                    + "attention products forward and backward (oneDNN on " + CpuBackend.oneDnnIsa(precision)
                    + ", fp32 accumulation), fp32 weights and optimizer");
        }
        return new Opened(new CpuBackend(precision), prefix + ", " + precision.label()
                + " linear layers (oneDNN on " + CpuBackend.oneDnnIsa(precision) + ", fp32 accumulation)");
    }

    private static boolean fp32InferenceOnOneDnn() {
        String choice = System.getProperty(FP32_INFERENCE, "onednn");
        if (!choice.equals("onednn") && !choice.equals("openblas")) {
            throw new IllegalArgumentException("-D" + FP32_INFERENCE + "=" + choice + ": expected onednn or openblas");
        }
        return choice.equals("onednn");
    }

    private static Opened fp32(String prefix, Use use) {
        if (use == Use.TRAINING || !fp32InferenceOnOneDnn()) {
            return new Opened(new CpuBackend(), prefix + ", fp32");
        }
        return new Opened(CpuBackend.fp32Inference(),
                prefix + ", fp32 (oneDNN linear layers and attention, for inference)");
    }

    private static Opened open(String spec, Precision precision, Precision cpu, Use use) {
        switch (spec) {
            case "cpu":
                return cpu(cpu, "", use);
            case "cuda": {
                String why = JCudaDevice.unavailableReason();
                if (why != null) {
                    throw new IllegalArgumentException("--device cuda: no usable GPU: " + why);
                }
                JCudaDevice d = new JCudaDevice(0);
                return new Opened(new CudaBackend(d, precision), "device: " + d.name());
            }
            case "cuda-emulated": {
                String why = EmulatedDevice.unavailableReason();
                if (why != null) {
                    throw new IllegalArgumentException("--device cuda-emulated: " + why);
                }
                return new Opened(new CudaBackend(new EmulatedDevice(), precision),
                        "device: cuda-emulated (the CUDA kernels run on the CPU, for testing; slow)");
            }
            case "auto": {
                String why = JCudaDevice.unavailableReason();
                if (why == null) {
                    JCudaDevice d = new JCudaDevice(0);
                    return new Opened(new CudaBackend(d, precision), "device: " + d.name() + " (auto)");
                }
                return cpu(cpu, " (auto: " + why + ")", use);
            }
            default:
                throw new IllegalArgumentException("--device " + spec + ": expected auto, cpu, cuda or cuda-emulated");
        }
    }
}
