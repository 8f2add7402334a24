package dev.flora.cli;

import dev.flora.engine.backend.Backend;
import dev.flora.pipeline.Ablation;
import dev.flora.pipeline.AblationConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flora ablation}: what filtering and LRAT are each worth (paper figures 4 and 5). */
@Command(name = "ablation", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train SPOS, SPOS + filtering, LRAT and LRAT + filtering supernets at one budget, search each "
                + "at every FLOPs target, and compare the searched subnets (test top-1) and the uniform-rank curve.",
            "Writes ablation.csv, fronts.png, uniform_vs_searched.png and ablation.json; stages resume."})
public final class AblationCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/ablation", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--model", paramLabel = "PATH|NAME", description = "Dense backbone (default: vit-fmnist).")
    String model;

    @Option(names = "--data", paramLabel = "DIR|NAME", description = "Data (default: "
            + "/usr/share/datasets/fashion-mnist).")
    String data;

    @Option(names = "--targets", split = ",", paramLabel = "F", description = "FLOPs targets, fractions of dense "
            + "(default: 0.4,0.5,0.6).")
    List<Double> targets;

    @Mixin
    ConfigOptions settings;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() {
        Map<String, Object> flags = new LinkedHashMap<>();
        flags.put("model", model);
        flags.put("data", data);
        flags.put("targets", targets);
        AblationConfig config = settings.resolve(AblationConfig.class, AblationConfig.defaults(), flags);
        if (settings.printed(config)) {
            return 0;
        }
        Backend backend = device.create(System.out);
        List<Ablation.Row> rows = new Ablation(config, out, backend, System.out).run();
        for (Ablation.Row r : rows) {
            System.out.printf(Locale.ROOT, "%-12s target %.2f: %.2fM FLOPs, test top-1 %.2f %%%n", r.variant(),
                    r.target(), r.flops() / 1e6, r.testTop1());
        }
        return 0;
    }
}
