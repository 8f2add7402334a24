package dev.flora.engine.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A file or directory that was asked for as output cannot be written: it is a directory, its
 * parent is a file, the directory is read-only, the disk is full. The message is one line that
 * names the path and the reason; the CLI prints it and exits with status 2, since the cure is
 * another {@code --out} (or space), not a bug report.
 */
public final class OutputException extends UncheckedIOException {
    private OutputException(String message, IOException cause) {
        super(message, cause);
    }

    /** {@code file} could not be written. */
    public static OutputException file(Path file, IOException cause) {
        return new OutputException("cannot write " + file + ": " + reason(file, cause), cause);
    }

    /** {@code dir} could not be created or is not a directory. */
    public static OutputException directory(Path dir, IOException cause) {
        return new OutputException("cannot create the directory " + dir + ": " + reason(dir, cause), cause);
    }

    /** The operating system's reason in words, naming the path it concerns when that is another one. */
    private static String reason(Path path, IOException e) {
        String other = e instanceof FileSystemException f && f.getFile() != null
                && !Path.of(f.getFile()).toAbsolutePath().equals(path.toAbsolutePath()) ? " (" + f.getFile() + ")" : "";
        if (e instanceof FileAlreadyExistsException) {
            return "a file is in the way" + other;
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied" + other;
        }
        if (e instanceof NoSuchFileException) {
            return "no such directory" + other;
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason() + other;
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().replace('\n', ' ');
    }
}
