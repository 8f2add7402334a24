package dev.flora.pipeline;

import dev.flora.config.FilterConfig;
import dev.flora.config.SearchConfig;
import dev.flora.config.SupernetConfig;
import dev.flora.engine.backend.Backend;
import dev.flora.filter.CandidateFilter;
import dev.flora.search.EvolutionarySearch;
import dev.flora.search.SearchRunner;
import dev.flora.stage.StageRunner;
import dev.flora.supernet.SupernetTrainer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * The stages a pipeline composes, each in the folder of its name under the run directory, all
 * run by one {@link StageRunner} (skipped when done, resumed when they can be).
 */
final class PipelineStages {
    private final Path runDir;
    private final Backend backend;
    private final PrintStream out;
    private final StageRunner runner;

    PipelineStages(Path runDir, Backend backend, PrintStream out) {
        this.runDir = runDir;
        this.backend = backend;
        this.out = out;
        this.runner = new StageRunner(out);
    }

    /** The filtered search space file. */
    Path filter(FilterConfig config, String name) {
        return runner.run(name, new CandidateFilter(config, runDir.resolve(name), backend, out)).file();
    }

    /** The trained supernet file. */
    Path supernet(SupernetConfig config, String name) {
        return runner.run(name, new SupernetTrainer(config, runDir.resolve(name), backend, out)).supernet();
    }

    EvolutionarySearch.State search(SearchConfig config, String name) {
        return runner.run(name, new SearchRunner(config, runDir.resolve(name), backend, out));
    }

    Map<String, Double> seconds() {
        return runner.seconds();
    }
}
