package dev.flora.cli;

import dev.flora.config.FitnessSignal;
import dev.flora.config.SearchConfig;
import dev.flora.engine.backend.Backend;
import dev.flora.search.EvolutionarySearch;
import dev.flora.search.SearchRunner;
import dev.flora.stage.Stage;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flora search}: evolutionary search over a trained supernet under FLOPs bounds and a latency budget. */
@Command(name = "search", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evolutionary search for the most accurate subnet within FLOPs bounds (and, with --latency-ms "
                + "and --latency-table, a predicted latency budget); fitness (--fitness) is minus the validation loss "
                + "(default: it ranks subnets by test top-1 best, see flora fitness-check), validation top-1, or minus "
                + "the KL divergence from the largest subnet, with the supernet's inherited weights. Evolution "
                + "defaults are the FLORA reference's.",
            "Writes config.yaml, search_state.json (every generation; --resume continues), evaluated.csv, best.txt."})
public final class SearchCommand extends StageCommand<SearchConfig, EvolutionarySearch.State> {
    @Option(names = "--out", defaultValue = "runs/search", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--generations-this-run", paramLabel = "N", description = "Stop after N generations in this "
            + "invocation.")
    Integer generationsThisRun;

    public SearchCommand() {
        super(SearchConfig.class, SearchConfig::defaults, SearchRunner::savedConfig, "--generations-this-run");
    }

    @Override
    Path out() {
        return out;
    }

    @Override
    Integer budget() {
        return generationsThisRun;
    }

    @Override
    Stage<EvolutionarySearch.State> stage(SearchConfig config, Path dir, Backend backend) {
        return new SearchRunner(config, dir, backend, System.out);
    }

    @Override
    void report(EvolutionarySearch.State s) {
        EvolutionarySearch.Evaluated best = s.best();
        System.out.printf(Locale.ROOT, "best after %d generations: %s, %sval top-1 %.2f %%, %.2fM FLOPs, %,d params%s%n",
                s.generationsDone(), best.arch(), s.fitness() == FitnessSignal.TOP1 ? ""
                        : String.format(Locale.ROOT, "fitness %s %.6f, ", s.fitness().label(), best.fitness()),
                best.top1(), best.flops() / 1e6, best.params(),
                best.latencyMs() == null ? "" : String.format(Locale.ROOT, ", %.3f ms predicted (budget %.3f ms)",
                        best.latencyMs(), s.latencyMs()));
    }
}
