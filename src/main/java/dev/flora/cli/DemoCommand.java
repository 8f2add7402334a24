package dev.flora.cli;

import dev.flora.pipeline.CompressConfig;
import dev.flora.pipeline.Compressor;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flora demo}: the pipeline on the bundled backbone and data, in minutes on two cores. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "FLORA end to end on the bundled vit-fmnist and the bundled Fashion-MNIST subset: LRAT and "
                + "SPOS supernets, evolutionary search at <= 50 %% FLOPs, export, Pareto plot and summary.")
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/demo", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Mixin
    ConfigOptions settings;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() {
        long t0 = System.nanoTime();
        CompressConfig config = settings.resolve(CompressConfig.class, CompressConfig.demo(), Map.of());
        if (settings.printed(config)) {
            return 0;
        }
        Compressor.Outcome o = CompressCommand.run(config, out, device);
        System.out.printf(Locale.ROOT, "demo finished in %.1f min: see %s%n", (System.nanoTime() - t0) / 60e9,
                o.summary());
        return 0;
    }
}
