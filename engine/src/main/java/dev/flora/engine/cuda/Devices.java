package dev.flora.engine.cuda;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.cpu.CpuBackend;

/**
 * Opens the backend a {@code --device} value names: {@code cpu}, {@code cuda} (a real GPU),
 * {@code cuda-emulated} (the CUDA backend on the emulated device) or {@code auto} (a GPU where
 * one is usable, else the CPU). The line it returns says which, and why. The fused low-rank
 * kernels' arithmetic is fp32 unless {@code -Dflora.cuda.precision=tf32|bf16} or a precision
 * is given; the CPU runs fp32 unless bf16 is given: for inference its bf16 backend keeps
 * converted weights, for training ({@link #openForTraining}) it converts them on every product.
 */
public final class Devices {
    private Devices() {
    }

    /** A backend and the one line that says what it is and why it was chosen. */
    public record Opened(Backend backend, String line) {
    }

    /** A GPU in the precision -Dflora.cuda.precision names (default fp32); the CPU in fp32. */
    public static Opened open(String spec) {
        Precision gpu = Precision.parse(System.getProperty("flora.cuda.precision", "fp32"), "-Dflora.cuda.precision");
        return open(spec, gpu, Precision.FP32, false);
    }

    /** {@link #open(String)} with the given precision on whichever device opens, for inference. */
    public static Opened open(String spec, Precision precision) {
        return open(spec, precision, precision, false);
    }

    /**
     * {@link #open(String, Precision)} for training: on the CPU, bf16 is
     * {@link CpuBackend#mixedPrecisionTraining() mixed-precision training}.
     */
    public static Opened openForTraining(String spec, Precision precision) {
        return open(spec, precision, precision, true);
    }

    /**
     * The CPU in {@code precision} where it can run it, else in fp32 with the line saying why:
     * tf32 is a GPU format, and bf16 needs AVX512-BF16.
     */
    public static Opened cpu(Precision precision, String qualifier) {
        return cpu(precision, qualifier, false);
    }

    private static Opened cpu(Precision precision, String qualifier, boolean training) {
        String prefix = "device: cpu" + qualifier;
        if (precision == Precision.FP32) {
            return new Opened(new CpuBackend(), prefix);
        }
        String why = precision == Precision.TF32 ? "tf32 is a GPU format" : CpuBackend.bf16UnsupportedReason();
        if (why != null) {
            return new Opened(new CpuBackend(), prefix + ", fp32 (" + precision.label() + " asked for, but " + why + ")");
        }
        if (training) {
            return new Opened(CpuBackend.mixedPrecisionTraining(), prefix + ", mixed precision: bf16 linear-layer "
                    + "products forward and backward (oneDNN, fp32 accumulation), fp32 weights and optimizer");
        }
        return new Opened(new CpuBackend(precision), prefix + ", " + precision.label()
                + " linear layers (oneDNN, fp32 accumulation)");
    }

    private static Opened open(String spec, Precision precision, Precision cpu, boolean training) {
        switch (spec) {
            case "cpu":
                return cpu(cpu, "", training);
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
                return cpu(cpu, " (auto: " + why + ")", training);
            }
            default:
                throw new IllegalArgumentException("--device " + spec + ": expected auto, cpu, cuda or cuda-emulated");
        }
    }
}
