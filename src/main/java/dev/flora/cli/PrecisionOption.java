package dev.flora.cli;

import dev.flora.engine.backend.Precision;
import picocli.CommandLine.Option;

/**
 * {@code --precision} of the commands that run a model (eval, predict, bench). The training stages
 * take theirs from their config's {@code precision} key, so that it is saved with the run.
 */
public final class PrecisionOption {
    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|bf16",
            description = "Number format of the linear layers' products: fp32, or bf16 with fp32 accumulation (on the "
                    + "CPU it needs AVX512-BF16, else fp32 runs and says why; on a GPU also tf32) "
                    + "(default: ${DEFAULT-VALUE}).")
    String precision;

    public Precision value() {
        return Precision.parse(precision, "--precision");
    }
}
