package dev.flora.cli;

import dev.flora.engine.backend.Backend;
import dev.flora.filter.CandidateFilter;
import dev.flora.filter.FilterConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flora filter}: low-rank aware candidate filtering, block by block. */
@Command(name = "filter", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Low-rank aware candidate filtering: per block, train a local LRAT supernet on a proxy set, "
                + "score every rank tuple by M = lambda * top-1 - FLOPs%%, keep the top k and the dense tuple.",
            "Writes block-<i>.json per block (a rerun skips finished blocks) and search_space.json for flora supernet "
                + "--search-space."})
public final class FilterCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/filter", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}); rerun with it to continue.")
    Path out;

    @Option(names = "--model", paramLabel = "PATH|NAME", description = "Dense backbone (default: vit-fmnist).")
    String model;

    @Option(names = "--data", paramLabel = "DIR|NAME", description = "Data (default: "
            + "/usr/share/datasets/fashion-mnist).")
    String data;

    @Option(names = "--include-proj", negatable = true, description = "Also factorize attn.proj.")
    Boolean includeProj;

    @Option(names = "--ratios", split = ",", paramLabel = "R", description = "Rank ratios in (0, 1].")
    List<Double> ratios;

    @Option(names = "--proxy-fraction", description = "Part of the training split the local supernets train on "
            + "(default: 0.35).")
    Double proxyFraction;

    @Option(names = "--score-fraction", description = "Part of the validation split tuples are scored on "
            + "(default: 0.5).")
    Double scoreFraction;

    @Option(names = "--lambda", description = "Weight of accuracy against FLOPs in M = lambda * P - F (default: 10).")
    Double lambda;

    @Option(names = "--top-k", description = "Tuples kept per block, plus the dense one (default: 25).")
    Integer topK;

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
        m.put("include_proj", includeProj);
        m.put("ratios", ratios);
        m.put("proxy_fraction", proxyFraction);
        m.put("score_fraction", scoreFraction);
        m.put("lambda", lambda);
        m.put("top_k", topK);
        Map<String, Object> l = loop.values();
        l.remove("train_limit");
        m.putAll(l);
        return m;
    }

    @Override
    public Integer call() {
        if (loop.trainLimit != null) {
            throw new IllegalArgumentException("--train-limit does not apply to filter; use --proxy-fraction");
        }
        FilterConfig config = settings.resolve(FilterConfig.class, FilterConfig.defaults(), flagValues()).validated();
        if (settings.printed(config)) {
            return 0;
        }
        Backend backend = device.create(System.out);
        CandidateFilter.Result r = new CandidateFilter(config, out, backend, System.out).run();
        System.out.printf(Locale.ROOT, "done in %.1f min: %s%n", r.seconds() / 60, r.file());
        return 0;
    }
}
