package dev.flora.stage;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs the stages of a pipeline one after another, the same way for each: a stage that is done
 * is skipped (its result read back), one that can resume continues, any other starts; each line
 * of progress names the stage, and the seconds each took in this invocation are kept for reports.
 */
public final class StageRunner {
    private final PrintStream out;
    private final Map<String, Double> seconds = new LinkedHashMap<>();

    public StageRunner(PrintStream out) {
        this.out = out;
    }

    /** Runs {@code stage} to its end under the label {@code name}, unless it is done. */
    public <R> R run(String name, Stage<R> stage) {
        if (stage.isDone()) {
            out.println(name + ": done, " + stage.dir());
            // a kill inside a write after the stage's final output leaves a temporary file that no later run claims
            RunDirectory.open(stage.dir());
            return stage.finished();
        }
        boolean resume = stage.canResume();
        out.println(name + (resume ? ": resuming" : ""));
        return time(name, () -> stage.run(resume, Integer.MAX_VALUE));
    }

    /** Runs work that is not a stage (export, evaluation) and keeps its time under {@code name}. */
    public <R> R time(String name, Supplier<R> work) {
        long t0 = System.nanoTime();
        R r = work.get();
        seconds.put(name, (System.nanoTime() - t0) / 1e9);
        return r;
    }

    /** Seconds per stage run in this invocation, in the order they ran. */
    public Map<String, Double> seconds() {
        return seconds;
    }
}
