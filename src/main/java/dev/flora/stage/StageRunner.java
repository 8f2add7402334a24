package dev.flora.stage;

import dev.flora.engine.io.AtomicFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Runs the stages of a pipeline one after another, the same way for each: a stage that is done
 * is skipped (its result read back), one that can resume continues, any other starts; each line
 * of progress names the stage. The seconds each stage has worked, over every invocation that ran
 * it, are kept in its folder ({@link #SECONDS_FILE}) and reported, so that a run resumed on
 * another day still says what each stage cost; an invocation killed outright does not add its
 * part.
 */
public final class StageRunner {
    /** A stage's working seconds so far, in its folder. */
    public static final String SECONDS_FILE = "stage-seconds.txt";

    private final PrintStream out;
    private final Map<String, Double> seconds = new LinkedHashMap<>();

    public StageRunner(PrintStream out) {
        this.out = out;
    }

    /** Runs {@code stage} to its end under the label {@code name}, unless it is done. */
    public <R> R run(String name, Stage<R> stage) {
        Path file = stage.dir().resolve(SECONDS_FILE);
        double before = workedSeconds(file);
        if (stage.isDone()) {
            out.println(name + ": done, " + stage.dir());
            // a kill inside a write after the stage's final output leaves a temporary file that no later run claims
            RunDirectory.open(stage.dir());
            if (Files.exists(file)) {
                seconds.put(name, before);
            }
            return stage.finished();
        }
        boolean resume = stage.canResume();
        out.println(name + (resume ? ": resuming" : ""));
        long t0 = System.nanoTime();
        try {
            return stage.run(resume, Integer.MAX_VALUE);
        } finally {
            double total = before + (System.nanoTime() - t0) / 1e9;
            seconds.put(name, total);
            if (Files.isDirectory(stage.dir())) {
                try {
                    AtomicFiles.writeString(file, String.format(Locale.ROOT, "%.3f%n", total));
                } catch (RuntimeException e) {
                    // for reports only: a full disk must not hide the stage's own outcome or error
                    out.println(name + ": cannot keep its seconds (" + e.getMessage() + ")");
                }
            }
        }
    }

    /**
     * Seconds per stage in the order they were met, all its invocations' work (a stage done
     * before its seconds were kept is left out). Callers may add other work's seconds to it.
     */
    public Map<String, Double> seconds() {
        return seconds;
    }

    private static double workedSeconds(Path file) {
        if (!Files.exists(file)) {
            return 0;
        }
        try {
            return Double.parseDouble(Files.readString(file).trim());
        } catch (IOException | NumberFormatException e) {
            // the figure is for reports only: a damaged one restarts the count rather than stopping the run
            return 0;
        }
    }
}
