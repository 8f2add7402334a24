package dev.flora.cli;

import dev.flora.config.SupernetConfig;
import dev.flora.engine.backend.Backend;
import dev.flora.stage.Stage;
import dev.flora.supernet.SupernetTrainer;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flora supernet}: SVD-initialize a low-rank supernet from a dense model and train it. */
@Command(name = "supernet", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Build a low-rank supernet from a dense checkpoint by SVD and train it: LRAT (weight "
                + "inheritance, p(r) ~ 1/r sampling) or SPOS (independent ranks, uniform sampling), with in-place "
                + "distillation from the dense model.",
            "Writes config.yaml, metrics.csv, checkpoint.safetensors (every epoch) and supernet.safetensors."})
public final class SupernetCommand extends TrainingStageCommand<SupernetConfig, SupernetTrainer.Result> {
    @Option(names = "--out", defaultValue = "runs/supernet", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    public SupernetCommand() {
        super(SupernetConfig.class, SupernetConfig::defaults, SupernetTrainer::savedConfig, SupernetConfig::precision);
    }

    @Override
    Path out() {
        return out;
    }

    @Override
    Stage<SupernetTrainer.Result> stage(SupernetConfig config, Path dir, Backend backend) {
        return new SupernetTrainer(config, dir, backend, System.out);
    }

    @Override
    void report(SupernetTrainer.Result r) {
        if (r.supernet() != null) {
            System.out.printf(Locale.ROOT, "done: supernet at %s (%.1f min)%n", r.supernet(), r.seconds() / 60);
        }
    }
}
