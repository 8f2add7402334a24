package dev.flora.cli;

import dev.flora.config.CompressConfig;
import dev.flora.engine.backend.Backend;
import dev.flora.pipeline.Compressor;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flora compress}: the whole pipeline from a dense checkpoint into one run directory. */
@Command(name = "compress", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run supernet training, evolutionary search, export and the report from a dense checkpoint. "
                + "Each stage resumes or is skipped when run again with the same --out.",
            "Writes supernet-*/, search-*/, flora.safetensors, uniform.safetensors, pareto.csv, pareto.png, "
                + "results.json and summary.md. Any key of a section: --set supernet.loop.lr=2e-4."})
public final class CompressCommand extends ConfiguredCommand {
    @Option(names = "--out", defaultValue = "runs/compress", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    ConfigFlags flags() {
        return ConfigFlags.topLevel(CompressConfig.class, CompressConfig.defaults())
                .shortcut("--supernet-epochs", "supernet.loop.epochs")
                .shortcut("--min-flops", "search.min_flops")
                .shortcut("--max-flops", "search.max_flops")
                .shortcut("--latency-ms", "search.latency_ms")
                .shortcut("--latency-table", "search.latency_table");
    }

    /** Runs the pipeline with {@code settings} over {@code defaults} into {@code out}. */
    static Compressor.Outcome run(ConfigOptions settings, CompressConfig defaults, Path out, DeviceOption device) {
        CompressConfig config = settings.resolve(CompressConfig.class, defaults);
        if (settings.printed(config)) {
            return null;
        }
        Backend backend = device.create(System.out);
        return new Compressor(config, out, backend, System.out).run();
    }

    @Override
    public Integer call() {
        run(settings, CompressConfig.defaults(), out, device);
        return 0;
    }
}
