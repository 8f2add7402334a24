package dev.flora.stage;

import dev.flora.config.Configs;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.FormatException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * The directory of a multi-stage run and the config that owns it: a new directory receives the
 * config, an existing one must hold the same settings, so that a rerun continues the run it
 * started instead of mixing two.
 */
public final class RunDirectory {
    private RunDirectory() {
    }

    /**
     * Creates {@code dir} with {@code yaml} as its {@code configFile}, or checks that the one there
     * reads as the same settings ({@code normalize} turns a saved file into today's YAML, so a run
     * saved with earlier key names still continues).
     */
    public static void claim(Path dir, String configFile, String yaml, UnaryOperator<String> normalize,
                             PrintStream out) {
        Path cfg = dir.resolve(configFile);
        open(dir);
        try {
            if (Files.exists(cfg)) {
                if (!normalize.apply(Files.readString(cfg)).equals(yaml)) {
                    throw new FormatException(dir + " holds a run with another config (" + cfg + "); continue it "
                            + "with the same settings or choose another --out");
                }
                out.println("continuing " + dir + " (finished stages are skipped)");
            } else {
                AtomicFiles.writeString(cfg, yaml);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up the run directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Creates {@code dir} (an {@link dev.flora.engine.io.OutputException} naming it when it cannot
     * be) and deletes the temporary files that a run killed inside a write left there: every
     * stage calls this before it writes, so a resumed run ends with no leftovers.
     */
    public static void open(Path dir) {
        AtomicFiles.createDirectories(dir);
        AtomicFiles.removeStaleTemps(dir);
    }

    /** The config saved as {@code configFile} in {@code dir} by the run that started there. */
    public static <T> T savedConfig(Path dir, String configFile, Class<T> type, T defaults) {
        Path f = dir.resolve(configFile);
        if (!Files.exists(f)) {
            throw new FormatException(dir + ": no " + configFile + " of a run to resume");
        }
        try {
            return Configs.fromYaml(Files.readString(f), type, defaults, f.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }
}
