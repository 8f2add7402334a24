package dev.flora.cli;

import dev.flora.engine.backend.Backend;
import dev.flora.train.TrainConfig;
import dev.flora.train.Trainer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flora pretrain}: trains a dense ViT from scratch into a run directory. */
@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Pre-train a dense ViT. Settings come from the defaults (the vit-fmnist recipe), then "
                + "--config FILE (YAML, snake_case keys), then flags.",
            "The run directory receives config.yaml, metrics.csv, checkpoint.safetensors (every epoch) and "
                + "model.safetensors (at the end)."})
public final class PretrainCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/pretrain", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its last checkpoint, with its saved "
            + "config.")
    boolean resume;

    @Option(names = "--epochs-this-run", paramLabel = "N", description = "Stop after N epochs in this invocation "
            + "(with a checkpoint); continue later with --resume.")
    Integer epochsThisRun;

    @Option(names = "--data", paramLabel = "DIR|NAME", description = "IDX directory or fmnist-subset "
            + "(default: /usr/share/datasets/fashion-mnist).")
    String data;

    @Option(names = "--arch", description = "vit-fmnist, deit-tiny, deit-small or deit-base (default: vit-fmnist).")
    String arch;

    @Option(names = "--embed-dim", description = "Override the preset's embedding width.")
    Integer embedDim;

    @Option(names = "--depth", description = "Override the preset's number of blocks.")
    Integer depth;

    @Option(names = "--num-heads", description = "Override the preset's attention heads.")
    Integer numHeads;

    @Option(names = "--patch-size", description = "Override the preset's patch size.")
    Integer patchSize;

    @Option(names = "--mlp-ratio", description = "Override the preset's MLP ratio.")
    Double mlpRatio;

    @Option(names = "--init-from", paramLabel = "PATH|NAME", description = "Start from this dense model's weights "
            + "(and architecture) instead of a random initialization.")
    String initFrom;

    @Option(names = "--label-smoothing", description = "Label smoothing (default: 0.1).")
    Double labelSmoothing;

    @Mixin
    LoopOptions loop;

    @Mixin
    DeviceOption device;

    private Map<String, Object> flagValues() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data", data);
        m.put("arch", arch);
        m.put("embed_dim", embedDim);
        m.put("depth", depth);
        m.put("num_heads", numHeads);
        m.put("patch_size", patchSize);
        m.put("mlp_ratio", mlpRatio);
        m.put("label_smoothing", labelSmoothing);
        m.put("init_from", initFrom);
        m.putAll(loop.values());
        return m;
    }

    @Mixin
    ConfigOptions settings;

    @Override
    public Integer call() {
        TrainConfig config = settings.resolveOrResume(resume, () -> Trainer.savedConfig(out), TrainConfig.class, TrainConfig.defaults(),
                flagValues()).validated();
        if (settings.printed(config)) {
            return 0;
        }
        int limit = ConfigOptions.thisRun(epochsThisRun, "--epochs-this-run");
        Backend backend = device.create(System.out);
        Trainer.Summary s = new Trainer(config, out, backend, System.out)
                .run(resume, limit);
        if (s.model() == null) {
            return 0;
        }
        System.out.printf(Locale.ROOT, "done: %d epochs, val top-1 %.2f %%, val loss %.4f, %.0f img/s (last epoch), "
                        + "%.1f min; model at %s%n", s.epochs(), 100 * s.valTop1(), s.valLoss(), s.imgPerSecond(),
                s.seconds() / 60, s.model());
        return 0;
    }
}
