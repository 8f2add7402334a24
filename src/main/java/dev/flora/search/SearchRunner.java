package dev.flora.search;

import dev.flora.config.Configs;
import dev.flora.config.SearchConfig;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.data.Split;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.FormatException;
import dev.flora.space.CostModel;
import dev.flora.latency.LatencyPredictor;
import dev.flora.space.FlopsBounds;
import dev.flora.stage.RunDirectory;
import dev.flora.stage.Stage;
import dev.flora.supernet.Supernet;
import dev.flora.train.Evaluator;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Runs the evolutionary search on a trained supernet: fitness ({@link SubnetFitness}: top-1, minus
 * the loss or minus the KL divergence from the largest subnet) of each subnet, with the
 * supernet's inherited weights, on the validation split. Writes {@code config.yaml},
 * {@code search_state.json} (resumable, every generation), {@code evaluated.csv} (top-1 and the
 * fitness, its column named by the signal) and {@code best.txt} (the best architecture on the
 * first line, its fitness and top-1 on the second) into the run directory.
 */
public final class SearchRunner implements Stage<EvolutionarySearch.State> {
    public static final String STATE = "search_state.json";
    public static final String EVALUATED = "evaluated.csv";
    public static final String BEST = "best.txt";
    public static final String CONFIG = "config.yaml";

    private final SearchConfig config;
    private final Path runDir;
    private final Backend backend;
    private final PrintStream out;

    public SearchRunner(SearchConfig config, Path runDir, Backend backend, PrintStream out) {
        this.config = config.validated();
        this.runDir = runDir;
        this.backend = backend;
        this.out = out;
    }

    /** The config a run directory was started with. */
    public static SearchConfig savedConfig(Path runDir) {
        if (!Files.exists(runDir.resolve(STATE))) {
            throw new FormatException(runDir + ": no " + STATE + " to resume from");
        }
        return RunDirectory.savedConfig(runDir, CONFIG, SearchConfig.class, SearchConfig.defaults());
    }

    /** The validation images fitness is computed on. */
    public static ImageSource fitnessImages(String data, int limit) {
        return Datasets.first(Datasets.load(data, Split.VAL), limit);
    }

    @Override
    public Path dir() {
        return runDir;
    }

    @Override
    public boolean isDone() {
        // best.txt is written after the last generation's state, so a kill between the two is not done
        return Files.exists(runDir.resolve(BEST)) && canResume()
                && finished().generationsDone() == config.evolution().generations();
    }

    @Override
    public boolean canResume() {
        return Files.exists(runDir.resolve(STATE));
    }

    @Override
    public EvolutionarySearch.State finished() {
        return EvolutionarySearch.readState(runDir.resolve(STATE));
    }

    /** Searches for at most {@code generationBudget} generations in this call (continue with resume). */
    @Override
    public EvolutionarySearch.State run(boolean resume, int generationBudget) {
        Supernet supernet = Supernet.load(Path.of(config.supernet()), backend);
        ImageSource val = fitnessImages(config.data(), config.valLimit());
        Evaluator.checkCompatible(supernet.space().config(), supernet.input(), val);
        Datasets.checkReadable(val);
        FlopsBounds bounds = FlopsBounds.parse(config.minFlops(), config.maxFlops(),
                CostModel.denseMacs(supernet.space().config()));
        LatencyPredictor predictor = config.latencyMs() == null ? null
                : LatencyPredictor.open(Path.of(config.latencyTable()), supernet.space(), backend);
        SearchBound latency = predictor == null ? null
                : SearchBound.latency(predictor, config.latencyMs(), config.latencyTable());
        SubnetFitness fitness = new SubnetFitness(supernet, val, config.evalBatchSize(), config.fitness());
        // bounds nothing meets fail here, before the run directory exists
        EvolutionarySearch search = new EvolutionarySearch(supernet.space(), config.evolution(), bounds, latency,
                config.fitness(), fitness, runDir.resolve(STATE), out);
        if (!resume && Files.exists(runDir.resolve(STATE))) {
            throw new FormatException(runDir + " already holds a search: pass --resume to "
                    + "continue it, or choose another --out");
        }
        RunDirectory.open(runDir);
        if (!resume) {
            AtomicFiles.writeString(runDir.resolve(CONFIG), Configs.toYaml(config));
        }
        out.printf(Locale.ROOT, "searching %s architectures of %s (%s supernet) for FLOPs in [%.2fM, %.2fM]%s, "
                        + "fitness %s on %d validation images%n", supernet.space().size(), supernet.space().config(),
                supernet.method().label(), bounds.lower() / 1e6, bounds.upper() / 1e6,
                predictor == null ? "" : String.format(Locale.ROOT, " and predicted latency at most %.3f ms at batch %d",
                        config.latencyMs(), predictor.batch()), config.fitness().label(), val.count());
        EvolutionarySearch.State state = search.run(resume, generationBudget);
        writeEvaluated(state);
        if (state.generationsDone() == config.evolution().generations()) {
            EvolutionarySearch.Evaluated best = state.best();
            AtomicFiles.writeString(runDir.resolve(BEST), String.format(Locale.ROOT, "%s%nfitness %s %.6f, val_top1 "
                    + "%.4f%n", best.arch(), state.fitness().label(), best.fitness(), best.top1()));
        }
        return state;
    }

    private void writeEvaluated(EvolutionarySearch.State state) {
        boolean timed = state.latencyMs() != null;
        StringBuilder sb = new StringBuilder("arch,flops,params,val_top1,fitness_" + state.fitness().label()
                + ",generation" + (timed ? ",predicted_ms" : "") + "\n");
        for (EvolutionarySearch.Evaluated e : state.evaluated()) {
            sb.append(String.format(Locale.ROOT, "%s,%d,%d,%.4f,%.6f,%d", e.arch(), e.flops(), e.params(), e.top1(),
                    e.fitness(), e.generation()));
            sb.append(timed ? String.format(Locale.ROOT, ",%.6f%n", e.latencyMs()) : "\n");
        }
        AtomicFiles.writeString(runDir.resolve(EVALUATED), sb.toString());
    }
}
