package dev.flora.cli;

import dev.flora.engine.backend.Backend;
import dev.flora.pipeline.CompressConfig;
import dev.flora.pipeline.Compressor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flora compress}: the whole pipeline from a dense checkpoint into one run directory. */
@Command(name = "compress", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run supernet training, evolutionary search, export and the report from a dense checkpoint. "
                + "Each stage resumes or is skipped when run again with the same --out.",
            "Writes supernet-*/, search-*/, flora.safetensors, uniform.safetensors, pareto.csv, pareto.png, "
                + "results.json and summary.md."})
public final class CompressCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/compress", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--model", paramLabel = "PATH|NAME", description = "Dense backbone (default: vit-fmnist).")
    String model;

    @Option(names = "--data", paramLabel = "DIR|NAME", description = "Data (default: "
            + "/usr/share/datasets/fashion-mnist).")
    String data;

    @Option(names = "--compare-spos", negatable = true, description = "Also train and search an SPOS supernet at "
            + "the same budget, for the LRAT vs SPOS fronts.")
    Boolean compareSpos;

    @Option(names = "--filter", negatable = true, description = "Run candidate filtering first and search the "
            + "filtered space.")
    Boolean runFilter;

    @Option(names = "--min-flops", paramLabel = "F", description = "Lower FLOPs bound of the search (default: 0.45).")
    String minFlops;

    @Option(names = "--max-flops", paramLabel = "F", description = "Upper FLOPs bound of the search (default: 0.5).")
    String maxFlops;

    @Option(names = "--supernet-epochs", description = "Supernet training epochs (default: 10).")
    Integer supernetEpochs;

    @Mixin
    ConfigOptions settings;

    @Mixin
    DeviceOption device;

    Map<String, Object> flagValues() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("data", data);
        m.put("compare_spos", compareSpos);
        m.put("run_filter", runFilter);
        Map<String, Object> search = new LinkedHashMap<>();
        if (minFlops != null) {
            search.put("min_flops", minFlops);
        }
        if (maxFlops != null) {
            search.put("max_flops", maxFlops);
        }
        m.put("search", search.isEmpty() ? null : search);
        m.put("supernet", supernetEpochs == null ? null : Map.of("epochs", supernetEpochs));
        return m;
    }

    static Compressor.Outcome run(CompressConfig config, Path out, DeviceOption device) {
        Backend backend = device.create(System.out);
        return new Compressor(config, out, backend, System.out).run();
    }

    @Override
    public Integer call() {
        CompressConfig config = settings.resolve(CompressConfig.class, CompressConfig.defaults(), flagValues());
        if (settings.printed(config)) {
            return 0;
        }
        run(config, out, device);
        return 0;
    }
}
