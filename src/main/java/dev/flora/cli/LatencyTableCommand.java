package dev.flora.cli;

import dev.flora.config.LatencyTableConfig;
import dev.flora.engine.backend.Backend;
import dev.flora.latency.LatencyTable;
import dev.flora.latency.LatencyTableBuilder;
import dev.flora.models.ModelSource;
import dev.flora.space.SearchSpace;
import java.nio.file.Path;
import java.util.OptionalInt;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code flora latency-table}: measures the latency table that search and compress take with --latency-table. */
@Command(name = "latency-table", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time every target module of a search space, dense and at every rank, at the rows it sees in "
                + "a forward at --batch on this machine and backend; calibrate the fixed overhead on random subnets; "
                + "with --check N, measure N more random subnets against the prediction.",
            "Writes one JSON file, keyed by CPU, cores, architecture, backend and threads: search and compress "
                + "refuse it elsewhere."})
public final class LatencyTableCommand extends ConfiguredCommand {
    @Option(names = "--out", defaultValue = "latency-table.json", paramLabel = "FILE",
            description = "The table (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    ConfigFlags flags() {
        return ConfigFlags.everyKey(LatencyTableConfig.class, LatencyTableConfig.defaults());
    }

    @Override
    public Integer call() {
        LatencyTableConfig c = settings.resolve(LatencyTableConfig.class, LatencyTableConfig.defaults());
        if (settings.printed(c)) {
            return 0;
        }
        Backend backend = device.createForInference(System.out); // what eval, predict and serving run on
        ModelSource.LoadedModel m = ModelSource.open(c.model(), backend, OptionalInt.empty(), System.err::println);
        SearchSpace space = SearchSpace.resolve(m.model().config(), c.searchSpace(), c.space().includeProj(),
                c.space().ratios());
        LatencyTable.Timing timing = new LatencyTable.Timing(c.moduleSeconds(), c.modelSeconds(),
                c.warmupSeconds(), c.quantile(), c.rounds());
        LatencyTableBuilder builder = new LatencyTableBuilder(space, m.model(), c.model(), c.batch(), timing,
                System.out);
        LatencyTable table = builder.build(c.calibration(), c.check(), c.seed());
        table.write(out);
        System.out.println("latency table -> " + out);
        return 0;
    }
}
