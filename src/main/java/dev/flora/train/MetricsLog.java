package dev.flora.train;

import dev.flora.engine.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The per-epoch metrics CSV of a run, rewritten atomically after every epoch. */
public final class MetricsLog {
    public static final String HEADER = "epoch,step,lr,train_loss,train_top1,val_loss,val_top1,img_per_s,"
            + "epoch_seconds";

    private final Path path;
    private final List<String> rows = new ArrayList<>();

    /** One epoch's figures (accuracies in percent). */
    public record Row(int epoch, long step, double lr, double trainLoss, double trainTop1, double valLoss,
                      double valTop1, double imgPerSecond, double epochSeconds) {
        String csv() {
            return String.format(Locale.ROOT, "%d,%d,%.6g,%.5f,%.3f,%.5f,%.3f,%.1f,%.1f", epoch, step, lr, trainLoss,
                    trainTop1, valLoss, valTop1, imgPerSecond, epochSeconds);
        }
    }

    /** Opens the log, keeping rows of epochs up to {@code keepEpochs} (those a checkpoint covers). */
    public MetricsLog(Path path, int keepEpochs) {
        this.path = path;
        if (Files.exists(path)) {
            try {
                for (String line : Files.readAllLines(path)) {
                    if (line.isBlank() || line.startsWith("epoch")) {
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

    public void append(Row row) {
        rows.add(row.csv());
        AtomicFiles.writeString(path, HEADER + "\n" + String.join("\n", rows) + "\n");
    }
}
