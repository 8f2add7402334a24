package dev.flora.cli;

import dev.flora.config.FilterConfig;
import dev.flora.engine.backend.Backend;
import dev.flora.filter.CandidateFilter;
import dev.flora.stage.RunDirectory;
import dev.flora.stage.Stage;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flora filter}: low-rank aware candidate filtering, block by block. */
@Command(name = "filter", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Low-rank aware candidate filtering: per block, train a local LRAT supernet on a proxy set, "
                + "score every rank tuple by M = lambda * top-1 - FLOPs%%, keep the top k and the dense tuple.",
            "Writes block-<i>.json per block (a rerun skips finished blocks) and search_space.json for flora supernet "
                + "--search-space."})
public final class FilterCommand extends StageCommand<FilterConfig, CandidateFilter.Result> {
    @Option(names = "--out", defaultValue = "runs/filter", paramLabel = "DIR",
            description = "Run directory (default: ${DEFAULT-VALUE}); rerun with it to continue.")
    Path out;

    @Option(names = "--blocks-this-run", paramLabel = "N", description = "Stop after filtering N blocks in this "
            + "invocation.")
    Integer blocksThisRun;

    public FilterCommand() {
        super(FilterConfig.class, FilterConfig::defaults, dir -> RunDirectory.savedConfig(dir, CandidateFilter.CONFIG,
                FilterConfig.class, FilterConfig.defaults()), "--blocks-this-run");
    }

    @Override
    Path out() {
        return out;
    }

    @Override
    Integer budget() {
        return blocksThisRun;
    }

    @Override
    Stage<CandidateFilter.Result> stage(FilterConfig config, Path dir, Backend backend) {
        return new CandidateFilter(config, dir, backend, System.out);
    }

    @Override
    void report(CandidateFilter.Result r) {
        if (r.file() != null) {
            System.out.printf(Locale.ROOT, "done in %.1f min: %s%n", r.seconds() / 60, r.file());
        }
    }
}
