package dev.flora.cli;

import dev.flora.engine.backend.Backend;
import dev.flora.supernet.SupernetConfig;
import dev.flora.supernet.SupernetTrainer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flora supernet}: SVD-initialize a low-rank supernet from a dense model and train it. */
@Command(name = "supernet", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Build a low-rank supernet from a dense checkpoint by SVD and train it: LRAT (weight "
                + "inheritance, p(r) ~ 1/r sampling) or SPOS (independent ranks, uniform sampling), with in-place "
                + "distillation from the dense model.",
            "Writes config.yaml, metrics.csv, checkpoint.safetensors (every epoch) and supernet.safetensors."})
public final class SupernetCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/supernet", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its last checkpoint.")
    boolean resume;

    @Option(names = "--epochs-this-run", paramLabel = "N", description = "Stop after N epochs in this invocation.")
    Integer epochsThisRun;

    @Option(names = "--model", paramLabel = "PATH|NAME", description = "Dense backbone (default: vit-fmnist).")
    String model;

    @Option(names = "--data", paramLabel = "DIR|NAME", description = "Training data (default: "
            + "/usr/share/datasets/fashion-mnist).")
    String data;

    @Option(names = "--method", description = "lrat or spos (default: lrat).")
    String method;

    @Option(names = "--search-space", paramLabel = "FILE|NAME", description = "Search space JSON (e.g. from flora "
            + "filter) or a bundled one (vit-fmnist-filtered); default: every tuple of the default ratios.")
    String searchSpace;

    @Option(names = "--include-proj", negatable = true, description = "Also factorize attn.proj.")
    Boolean includeProj;

    @Option(names = "--ratios", split = ",", paramLabel = "R", description = "Rank ratios of min(in, out), in "
            + "(0, 1] (default: 0.125,0.25,0.375,0.5,0.625,0.75,1.0).")
    List<Double> ratios;

    @Option(names = "--distill-weight", description = "Weight of the distillation loss; the rest goes to the "
            + "labels (default: 1.0).")
    Double distillWeight;

    @Option(names = "--label-smoothing", description = "Label smoothing of the label part (default: 0.1).")
    Double labelSmoothing;

    @Mixin
    LoopOptions loop;

    @Mixin
    ConfigOptions settings;

    @Mixin
    DeviceOption device;

    private Map<String, Object> flagValues() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("data", data);
        m.put("method", method);
        m.put("search_space", searchSpace);
        m.put("include_proj", includeProj);
        m.put("ratios", ratios);
        m.put("distill_weight", distillWeight);
        m.put("label_smoothing", labelSmoothing);
        m.putAll(loop.values());
        return m;
    }

    @Override
    public Integer call() {
        SupernetConfig config = settings.resolveOrResume(resume, () -> SupernetTrainer.savedConfig(out), SupernetConfig.class, SupernetConfig.defaults(),
                flagValues()).validated();
        if (settings.printed(config)) {
            return 0;
        }
        int limit = ConfigOptions.thisRun(epochsThisRun, "--epochs-this-run");
        Backend backend = device.create(System.out);
        SupernetTrainer.Result r = new SupernetTrainer(config, out, backend, System.out)
                .run(resume, limit);
        if (r.supernet() != null) {
            System.out.printf(Locale.ROOT, "done: supernet at %s (%.1f min)%n", r.supernet(), r.seconds() / 60);
        }
        return 0;
    }
}
