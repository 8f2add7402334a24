package dev.flora.cli;

import dev.flora.config.CompressConfig;
import dev.flora.pipeline.Compressor;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flora demo}: the pipeline on the bundled backbone and data, in minutes on two cores. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "FLORA end to end on the bundled vit-fmnist and the bundled Fashion-MNIST subset: LRAT and "
                + "SPOS supernets, evolutionary search at <= 50 %% FLOPs, export, Pareto plot and summary "
                + "(flora compress with the settings of demo.yaml; see --print-config).")
public final class DemoCommand extends ConfiguredCommand {
    @Option(names = "--out", defaultValue = "runs/demo", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    ConfigFlags flags() {
        return ConfigFlags.none(CompressConfig.class, CompressConfig.demo());
    }

    @Override
    public Integer call() {
        long t0 = System.nanoTime();
        Compressor.Outcome o = CompressCommand.run(settings, CompressConfig.demo(), out, device);
        if (o != null) {
            System.out.printf(Locale.ROOT, "demo finished in %.1f min: see %s%n", (System.nanoTime() - t0) / 60e9,
                    o.summary());
        }
        return 0;
    }
}
