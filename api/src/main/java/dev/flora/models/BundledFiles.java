package dev.flora.models;

import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.OutputException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * Bundled models and search spaces as files, since the safetensors and search-space readers read
 * files. Each is copied once into a per-user cache under its name and the hash of its content
 * ({@code vit-fmnist-1f2e....safetensors}) and later runs reuse the copy: nothing goes into the
 * system temporary directory, a killed run leaks nothing, and a message about the file still names
 * the bundled model. The cache is {@code -Dflora.cache.dir}, else {@code $XDG_CACHE_HOME/flora-j},
 * else {@code ~/.cache/flora-j}; where that cannot be written, {@code <java.io.tmpdir>/flora-j-<user>}.
 */
final class BundledFiles {
    /** A copy takes well under a second; a temporary file this old was left by a killed process. */
    private static final Duration KILLED_WRITE_AGE = Duration.ofMinutes(10);

    private BundledFiles() {
    }

    /** The cached copy of the class-path resource {@code resource}, bundled as {@code name}. */
    static Path extract(String resource, String name, String suffix) {
        byte[] bytes;
        try (InputStream in = BundledFiles.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new FormatException("bundled " + name + " is missing from this build (" + resource + ")");
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read bundled " + name + " (" + resource + ")", e);
        }
        String file = name + "-" + HexFormat.of().formatHex(sha256(bytes), 0, 8) + suffix;
        return inCache("bundled", file, target -> {
            try {
                if (!Files.isRegularFile(target) || Files.size(target) != bytes.length) {
                    AtomicFiles.writeBytes(target, bytes);
                }
            } catch (IOException e) {
                throw OutputException.file(target, e);
            }
        });
    }

    /**
     * {@code file} in the cache's folder {@code kind}, after {@code write} brought it up to date
     * (atomically: concurrent runs each see a whole file); the fallback folder when the first fails.
     */
    static Path inCache(String kind, String file, Consumer<Path> write) {
        Path target = primaryCache().resolve(kind).resolve(file);
        try {
            AtomicFiles.removeStaleTemps(target.getParent(), KILLED_WRITE_AGE);
            write.accept(target);
            return target;
        } catch (OutputException first) {
            Path fallback = Path.of(System.getProperty("java.io.tmpdir"), "flora-j-" + System.getProperty("user.name"))
                    .resolve(kind).resolve(file);
            try {
                AtomicFiles.removeStaleTemps(fallback.getParent(), KILLED_WRITE_AGE);
                write.accept(fallback);
                return fallback;
            } catch (OutputException second) {
                throw first;
            }
        }
    }

    private static Path primaryCache() {
        String dir = System.getProperty("flora.cache.dir");
        if (dir != null && !dir.isBlank()) {
            return Path.of(dir);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "flora-j");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "flora-j");
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
