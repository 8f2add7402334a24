package dev.flora.cli;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import picocli.CommandLine.Option;

/** {@code --device}, shared by every command that computes. */
public final class DeviceOption {
    @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cpu",
            description = "Backend: auto or cpu (default: ${DEFAULT-VALUE}). This build has the CPU backend only.")
    String device;

    /** Creates the backend and says in one line which one runs. */
    public Backend create(java.io.PrintStream out) {
        return switch (device) {
            case "cpu" -> {
                out.println("device: cpu");
                yield new CpuBackend();
            }
            case "auto" -> {
                out.println("device: cpu (auto: this build has no CUDA backend)");
                yield new CpuBackend();
            }
            case "cuda", "cuda-emulated" -> throw new IllegalArgumentException("--device " + device
                    + ": this build has no CUDA backend (expected auto or cpu)");
            default -> throw new IllegalArgumentException("--device " + device + ": expected auto or cpu");
        };
    }
}
