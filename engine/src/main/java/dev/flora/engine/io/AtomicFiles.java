package dev.flora.engine.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Writes files so that they appear whole or not at all: content goes to a temporary file in
 * the same directory, is forced to disk, and is then renamed over the target. A process killed
 * mid-write leaves only a hidden {@code .NAME.<n>.tmp}, which {@link #removeStaleTemps} clears
 * when the directory is next claimed. Every failure is an {@link OutputException} naming the path.
 */
public final class AtomicFiles {
    /** The temporary files this class creates (and {@code Files.createTempFile} named the same way before). */
    private static final Pattern TEMP = Pattern.compile("\\..+\\.[0-9]+\\.tmp");
    /**
     * Milliseconds to pause between writing a temporary file and renaming it; 0 but under
     * {@code tools/crashtest.sh}, which widens the window so that its kills land inside writes.
     */
    private static final long WRITE_DELAY_MS = Long.getLong("flora.crashtest.writeDelayMs", 0);

    private AtomicFiles() {
    }

    /** Produces the file's content on an open channel. */
    @FunctionalInterface
    public interface Writer {
        void write(FileChannel out) throws IOException;
    }

    public static void write(Path target, Writer writer) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        createDirectories(dir);
        if (Files.isDirectory(abs, LinkOption.NOFOLLOW_LINKS)) {
            throw OutputException.file(target, new IOException("it is a directory"));
        }
        Path tmp = null;
        try {
            tmp = createTemp(dir, abs.getFileName().toString());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                writer.write(ch);
                ch.force(true);
            }
            pauseForCrashTest();
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw OutputException.file(target, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the temporary file is hidden and named as such; removeStaleTemps takes it later
                }
            }
        }
    }

    /** A new empty {@code .NAME.<n>.tmp} in {@code dir}, with the umask's permissions (not createTempFile's 0600). */
    private static Path createTemp(Path dir, String name) throws IOException {
        while (true) {
            try {
                return Files.createFile(dir.resolve("." + name + "." + ThreadLocalRandom.current().nextLong(Long.MAX_VALUE)
                        + ".tmp"));
            } catch (FileAlreadyExistsException taken) {
                // another writer drew the same number: draw again
            }
        }
    }

    /** Writes a UTF-8 text file atomically. */
    public static void writeString(Path target, String content) {
        writeBytes(target, content.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes {@code content} atomically. */
    public static void writeBytes(Path target, byte[] content) {
        write(target, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        });
    }

    /** Creates {@code dir} and its parents unless they exist; fails naming it when that is impossible. */
    public static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw OutputException.directory(dir, e);
        }
    }

    /**
     * Deletes the temporary files that writes into {@code dir} left when their process was
     * killed; call it only where one process owns the directory (a run directory it claimed).
     * Returns how many it deleted.
     */
    public static int removeStaleTemps(Path dir) {
        return removeStaleTemps(dir, Duration.ZERO);
    }

    /**
     * {@link #removeStaleTemps(Path)} for a directory that processes share (a cache): only temporary
     * files untouched for {@code minAge} go, since a younger one may be another process's write.
     */
    public static int removeStaleTemps(Path dir, Duration minAge) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        FileTime before = FileTime.from(Instant.now().minus(minAge));
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir,
                f -> TEMP.matcher(f.getFileName().toString()).matches() && Files.isRegularFile(f))) {
            for (Path f : files) {
                if (!minAge.isZero() && Files.getLastModifiedTime(f).compareTo(before) > 0) {
                    continue;
                }
                Files.deleteIfExists(f);
                removed++;
            }
        } catch (IOException e) {
            throw OutputException.directory(dir, e);
        }
        return removed;
    }

    private static void pauseForCrashTest() {
        if (WRITE_DELAY_MS > 0) {
            try {
                Thread.sleep(WRITE_DELAY_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
