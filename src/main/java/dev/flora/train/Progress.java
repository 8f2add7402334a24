package dev.flora.train;

import java.io.PrintStream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long loop: a live progress bar on a terminal, and on anything else (CI logs,
 * files) a plain line every {@code logSeconds} and at the end, so logs stay readable.
 */
public abstract class Progress implements AutoCloseable {

    public abstract void step(long n, String message);

    @Override
    public abstract void close();

    /** A bar on a terminal, log lines otherwise. */
    public static Progress create(String task, long total, PrintStream out) {
        if (System.console() != null) {
            return new Bar(task, total, out);
        }
        return new Lines(task, total, out, 30);
    }

    private static final class Bar extends Progress {
        private final ProgressBar bar;

        Bar(String task, long total, PrintStream out) {
            this.bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                    .setConsumer(new ConsoleProgressBarConsumer(out)).build();
        }

        @Override
        public void step(long n, String message) {
            bar.stepBy(n);
            bar.setExtraMessage(" " + message);
        }

        @Override
        public void close() {
            bar.close();
        }
    }

    /** Plain lines for non-interactive output. */
    static final class Lines extends Progress {
        private final String task;
        private final long total;
        private final PrintStream out;
        private final long intervalNanos;
        private long done;
        private long lastPrint = System.nanoTime();
        private String last = "";

        Lines(String task, long total, PrintStream out, int logSeconds) {
            this.task = task;
            this.total = total;
            this.out = out;
            this.intervalNanos = logSeconds * 1_000_000_000L;
        }

        @Override
        public void step(long n, String message) {
            done += n;
            last = message;
            long now = System.nanoTime();
            if (now - lastPrint >= intervalNanos && done < total) {
                out.println(task + " " + done + "/" + total + " " + message);
                lastPrint = now;
            }
        }

        @Override
        public void close() {
            out.println(task + " " + done + "/" + total + " " + last);
        }
    }
}
