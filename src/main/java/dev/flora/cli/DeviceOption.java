package dev.flora.cli;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.cuda.Devices;
import picocli.CommandLine.Option;

/** {@code --device}, shared by every command that computes. */
public final class DeviceOption {
    @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cpu|cuda|cuda-emulated",
            description = "Backend: auto (a GPU if one is usable, else the CPU), cpu, cuda, or cuda-emulated (the "
                    + "CUDA kernels on the CPU, for testing) (default: ${DEFAULT-VALUE}).")
    String device;

    /** Opens the backend and says in one line which one runs, and why. */
    public Backend create(java.io.PrintStream out) {
        return announce(Devices.open(device), out);
    }

    /** {@link #create(java.io.PrintStream)} for inference only (on the CPU: oneDNN's linear layers). */
    public Backend createForInference(java.io.PrintStream out) {
        return announce(Devices.openForInference(device), out);
    }

    /** {@link #create(java.io.PrintStream)} in the given precision ({@code --precision}), for inference. */
    public Backend create(java.io.PrintStream out, Precision precision) {
        return announce(Devices.open(device, precision), out);
    }

    /** {@link #create(java.io.PrintStream, Precision)} for training (mixed precision on the CPU in bf16). */
    public Backend createForTraining(java.io.PrintStream out, Precision precision) {
        return announce(Devices.openForTraining(device, precision), out);
    }

    private static Backend announce(Devices.Opened o, java.io.PrintStream out) {
        out.println(o.line());
        return o.backend();
    }
}
