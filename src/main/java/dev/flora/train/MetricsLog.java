package dev.flora.train;

import dev.flora.engine.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The per-epoch metrics CSV of a run, rewritten atomically after every epoch. The first
 * columns are the same for every run; validation columns follow in the task's order.
 */
public final class MetricsLog {
    private static final String FIXED = "epoch,step,lr,train_loss,train_top1,img_per_s,epoch_seconds";

    private final Path path;
    private final List<String> rows = new ArrayList<>();
    private String header;

    /** Opens the log, keeping rows of epochs up to {@code keepEpochs} (those a checkpoint covers). */
    public MetricsLog(Path path, int keepEpochs) {
        this.path = path;
        if (Files.exists(path)) {
            try {
                for (String line : Files.readAllLines(path)) {
                    if (line.isBlank()) {
                        continue;
                    }
                    if (line.startsWith("epoch")) {
                        header = line;
                        continue;
                    }
                    int epoch = Integer.parseInt(line.substring(0, line.indexOf(',')));
                    if (epoch <= keepEpochs) {
                        rows.add(line);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (RuntimeException e) {
                throw new IllegalStateException(path + ": cannot parse the metrics log (" + e.getMessage() + ")", e);
            }
        }
    }

    /** Appends one epoch (accuracies in percent) and rewrites the file. */
    public void append(int epoch, long step, double lr, double trainLoss, double trainTop1, double imgPerSecond,
                       double epochSeconds, Map<String, Double> validation) {
        StringBuilder h = new StringBuilder(FIXED);
        StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%d,%d,%.6g,%.5f,%.3f,%.1f,%.1f", epoch,
                step, lr, trainLoss, trainTop1, imgPerSecond, epochSeconds));
        validation.forEach((k, v) -> {
            h.append(',').append(k);
            row.append(String.format(Locale.ROOT, ",%.5f", v));
        });
        header = h.toString();
        rows.add(row.toString());
        AtomicFiles.writeString(path, header + "\n" + String.join("\n", rows) + "\n");
    }
}
