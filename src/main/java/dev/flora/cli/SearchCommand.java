package dev.flora.cli;

import dev.flora.engine.backend.Backend;
import dev.flora.search.EvolutionarySearch;
import dev.flora.search.SearchConfig;
import dev.flora.search.SearchRunner;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flora search}: evolutionary search over a trained supernet under FLOPs bounds. */
@Command(name = "search", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evolutionary search for the most accurate subnet within FLOPs bounds; fitness is validation "
                + "top-1 with the supernet's inherited weights. Defaults are the FLORA reference's.",
            "Writes config.yaml, search_state.json (every generation; --resume continues), evaluated.csv, best.txt."})
public final class SearchCommand implements Callable<Integer> {
    @Option(names = "--supernet", paramLabel = "FILE", description = "A supernet.safetensors from flora supernet.")
    String supernet;

    @Option(names = "--out", defaultValue = "runs/search", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--resume", description = "Continue the search in --out from its last generation.")
    boolean resume;

    @Option(names = "--generations-this-run", paramLabel = "N", description = "Stop after N generations in this "
            + "invocation.")
    Integer generationsThisRun;

    @Option(names = "--data", paramLabel = "DIR|NAME", description = "Data whose validation split scores "
            + "subnets (default: /usr/share/datasets/fashion-mnist).")
    String data;

    @Option(names = "--population", description = "Population per generation (default: 50).")
    Integer population;

    @Option(names = "--top-k", description = "Parents kept for mutation and crossover (default: 10).")
    Integer topK;

    @Option(names = "--mutations", description = "Mutated children per generation (default: 25).")
    Integer mutations;

    @Option(names = "--mutation-prob", description = "Probability of re-drawing each block (default: 0.2).")
    Double mutationProb;

    @Option(names = "--crossovers", description = "Crossover children per generation (default: 25).")
    Integer crossovers;

    @Option(names = "--generations", description = "Generations (default: 20).")
    Integer generations;

    @Option(names = "--min-flops", paramLabel = "F", description = "Lower FLOPs bound: a fraction of the dense "
            + "model (0.45, 45%%) or a count (28M) (default: 0.45).")
    String minFlops;

    @Option(names = "--max-flops", paramLabel = "F", description = "Upper FLOPs bound (default: 0.5).")
    String maxFlops;

    @Option(names = "--seed", description = "Seed (default: 0).")
    Long seed;

    @Option(names = "--eval-batch-size", description = "Batch size for scoring (default: 256).")
    Integer evalBatchSize;

    @Option(names = "--val-limit", description = "Score on the first N validation images, 0 for all (default: 0).")
    Integer valLimit;

    @Mixin
    ConfigOptions settings;

    @Mixin
    DeviceOption device;

    private Map<String, Object> flagValues() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("supernet", supernet);
        m.put("data", data);
        m.put("population", population);
        m.put("top_k", topK);
        m.put("mutations", mutations);
        m.put("mutation_prob", mutationProb);
        m.put("crossovers", crossovers);
        m.put("generations", generations);
        m.put("min_flops", minFlops);
        m.put("max_flops", maxFlops);
        m.put("seed", seed);
        m.put("eval_batch_size", evalBatchSize);
        m.put("val_limit", valLimit);
        return m;
    }

    @Override
    public Integer call() {
        SearchConfig config = settings.resolveOrResume(resume, () -> SearchRunner.savedConfig(out), SearchConfig.class, SearchConfig.defaults(),
                flagValues()).validated();
        if (settings.printed(config)) {
            return 0;
        }
        int limit = ConfigOptions.thisRun(generationsThisRun, "--generations-this-run");
        Backend backend = device.create(System.out);
        EvolutionarySearch.State s = new SearchRunner(config, out, backend, System.out)
                .run(resume, limit);
        EvolutionarySearch.Evaluated best = s.best();
        System.out.printf(Locale.ROOT, "best after %d generations: %s, val top-1 %.2f %%, %.2fM FLOPs, %,d params%n",
                s.generationsDone(), best.arch(), best.top1(), best.flops() / 1e6, best.params());
        return 0;
    }
}
