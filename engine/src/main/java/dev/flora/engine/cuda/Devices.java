package dev.flora.engine.cuda;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import java.util.Locale;

/**
 * Opens the backend a {@code --device} value names: {@code cpu}, {@code cuda} (a real GPU),
 * {@code cuda-emulated} (the CUDA backend on the emulated device) or {@code auto} (a GPU where
 * one is usable, else the CPU). The line it returns says which, and why. The fused low-rank
 * kernels' arithmetic is fp32 unless {@code -Dflora.cuda.precision=tf32|bf16}.
 */
public final class Devices {
    private Devices() {
    }

    /** A backend and the one line that says what it is and why it was chosen. */
    public record Opened(Backend backend, String line) {
    }

    /** fp32, tf32 or bf16 (any case); {@code source} names where the value came from, for the error. */
    public static CudaBackend.Precision parsePrecision(String value, String source) {
        try {
            return CudaBackend.Precision.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + " " + value + ": expected fp32, tf32 or bf16");
        }
    }

    public static Opened open(String spec) {
        return open(spec, parsePrecision(System.getProperty("flora.cuda.precision", "fp32"), "-Dflora.cuda.precision"));
    }

    /** {@link #open(String)} with the CUDA precision given here rather than by -Dflora.cuda.precision. */
    public static Opened open(String spec, CudaBackend.Precision precision) {
        switch (spec) {
            case "cpu":
                return new Opened(new CpuBackend(), "device: cpu");
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
                return new Opened(new CpuBackend(), "device: cpu (auto: " + why + ")");
            }
            default:
                throw new IllegalArgumentException("--device " + spec + ": expected auto, cpu, cuda or cuda-emulated");
        }
    }
}
