package dev.flora.cli;

import dev.flora.config.AblationConfig;
import dev.flora.engine.backend.Backend;
import dev.flora.pipeline.Ablation;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flora ablation}: what filtering and LRAT are each worth (paper figures 4 and 5). */
@Command(name = "ablation", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train SPOS, SPOS + filtering, LRAT and LRAT + filtering supernets at one budget, search each "
                + "at every FLOPs target, and compare the searched subnets (test top-1) with the uniform-rank curve and "
                + "with the rank allocations of the dense model that need no supernet (--allocations), each "
                + "difference with its paired standard error.",
            "Writes ablation.csv, fronts.png, uniform_vs_searched.png and ablation.json; stages resume."})
public final class AblationCommand extends ConfiguredCommand {
    @Option(names = "--out", defaultValue = "runs/ablation", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--quick", description = "Start from the settings of ablation-quick.yaml (the bundled data, "
            + "small supernets and searches: minutes on two cores; see --print-config) instead of the full defaults.")
    boolean quick;

    @Override
    ConfigFlags flags() {
        return ConfigFlags.topLevel(AblationConfig.class, AblationConfig.defaults());
    }

    @Override
    public Integer call() {
        long t0 = System.nanoTime();
        AblationConfig config = settings.resolve(AblationConfig.class,
                quick ? AblationConfig.quick() : AblationConfig.defaults());
        if (settings.printed(config)) {
            return 0;
        }
        Backend backend = device.create(System.out);
        List<Ablation.Row> rows = new Ablation(config, out, backend, System.out).run();
        for (Ablation.Row r : rows) {
            System.out.printf(Locale.ROOT, "%-12s target %.2f: %.2fM FLOPs, test top-1 %.2f %%%n", r.variant(),
                    r.target(), r.flops() / 1e6, r.testTop1());
        }
        System.out.printf(Locale.ROOT, "ablation finished in %.1f min: see %s%n", (System.nanoTime() - t0) / 60e9,
                out.resolve("ablation.csv"));
        return 0;
    }
}
