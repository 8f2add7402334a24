package dev.flora.pipeline;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.FormatException;
import dev.flora.filter.CandidateFilter;
import dev.flora.filter.FilterConfig;
import dev.flora.search.EvolutionarySearch;
import dev.flora.search.SearchConfig;
import dev.flora.search.SearchRunner;
import dev.flora.supernet.SupernetConfig;
import dev.flora.supernet.SupernetTrainer;
import dev.flora.train.TrainingLoop;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The stages of a pipeline run, each in its own folder of the run directory: a stage whose
 * output exists is skipped, one with a checkpoint or saved state continues from it. Keeps the
 * time each stage took in this invocation.
 */
final class Stages {
    private final Path runDir;
    private final Backend backend;
    private final PrintStream out;
    private final Map<String, Double> seconds = new LinkedHashMap<>();

    Stages(Path runDir, Backend backend, PrintStream out) {
        this.runDir = runDir;
        this.backend = backend;
        this.out = out;
    }

    Map<String, Double> seconds() {
        return seconds;
    }

    /** Creates the run directory with {@code yaml} as its config, or checks that an existing one matches. */
    void open(String configFile, String yaml) {
        Path cfg = runDir.resolve(configFile);
        try {
            if (Files.exists(cfg)) {
                if (!Files.readString(cfg).equals(yaml)) {
                    throw new FormatException(runDir + " holds a run with another config (" + cfg + "); continue it "
                            + "with the same settings or choose another --out");
                }
                out.println("continuing " + runDir + " (finished stages are skipped)");
            } else {
                Files.createDirectories(runDir);
                AtomicFiles.writeString(cfg, yaml);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path filter(FilterConfig config, String name) {
        Path dir = runDir.resolve(name);
        Path file = dir.resolve(CandidateFilter.SPACE);
        if (Files.exists(file)) {
            out.println(name + ": done, " + file);
            return file;
        }
        long t0 = System.nanoTime();
        out.println(name);
        CandidateFilter.Result r = new CandidateFilter(config, dir, backend, out).run();
        seconds.put(name, (System.nanoTime() - t0) / 1e9);
        return r.file();
    }

    Path supernet(SupernetConfig config, String name) {
        Path dir = runDir.resolve(name);
        Path net = dir.resolve(SupernetTrainer.SUPERNET);
        if (Files.exists(net)) {
            out.println(name + ": done, " + net);
            return net;
        }
        long t0 = System.nanoTime();
        boolean resume = Files.exists(dir.resolve(TrainingLoop.CHECKPOINT));
        out.println(name + (resume ? ": resuming" : ""));
        SupernetTrainer.Result r = new SupernetTrainer(config, dir, backend, out).run(resume, Integer.MAX_VALUE);
        seconds.put(name, (System.nanoTime() - t0) / 1e9);
        return r.supernet();
    }

    EvolutionarySearch.State search(SearchConfig config, String name) {
        Path dir = runDir.resolve(name);
        Path stateFile = dir.resolve(SearchRunner.STATE);
        if (Files.exists(stateFile)) {
            EvolutionarySearch.State s = EvolutionarySearch.readState(stateFile);
            if (s.generationsDone() == config.generations()) {
                out.println(name + ": done, " + stateFile);
                return s;
            }
        }
        long t0 = System.nanoTime();
        boolean resume = Files.exists(stateFile);
        out.println(name + (resume ? ": resuming" : ""));
        EvolutionarySearch.State s = new SearchRunner(config, dir, backend, out).run(resume, Integer.MAX_VALUE);
        seconds.put(name, (System.nanoTime() - t0) / 1e9);
        return s;
    }
}
