package dev.flora.cli;

import dev.flora.config.TrainConfig;
import dev.flora.engine.backend.Backend;
import dev.flora.stage.Stage;
import dev.flora.train.Trainer;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flora pretrain}: trains a dense ViT from scratch into a run directory. */
@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Pre-train a dense ViT. Settings come from the defaults (the vit-fmnist recipe), then "
                + "--config FILE (YAML, snake_case keys), then flags, then --set.",
            "The run directory receives config.yaml, metrics.csv, checkpoint.safetensors (every epoch) and "
                + "model.safetensors (at the end)."})
public final class PretrainCommand extends TrainingStageCommand<TrainConfig, Trainer.Summary> {
    @Option(names = "--out", defaultValue = "runs/pretrain", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    public PretrainCommand() {
        super(TrainConfig.class, TrainConfig::defaults, Trainer::savedConfig, TrainConfig::precision);
    }

    @Override
    Path out() {
        return out;
    }

    @Override
    Stage<Trainer.Summary> stage(TrainConfig config, Path dir, Backend backend) {
        return new Trainer(config, dir, backend, System.out);
    }

    @Override
    void report(Trainer.Summary s) {
        if (s.model() != null) {
            System.out.printf(Locale.ROOT, "done: %d epochs, val top-1 %.2f %%, val loss %.4f, %.0f img/s (last "
                            + "epoch), %.1f min; model at %s%n", s.epochs(), 100 * s.valTop1(), s.valLoss(),
                    s.imgPerSecond(), s.seconds() / 60, s.model());
        }
    }
}
