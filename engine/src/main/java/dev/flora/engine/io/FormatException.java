package dev.flora.engine.io;

/**
 * A file or tensor that is not what it must be: truncated, corrupt, of the wrong shape or
 * format. The message names the file or tensor and what was expected; the CLI prints it as
 * one line and exits with status 2.
 */
public class FormatException extends RuntimeException {
    public FormatException(String message) {
        super(message);
    }

    public FormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
