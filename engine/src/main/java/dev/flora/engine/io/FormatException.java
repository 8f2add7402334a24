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

    /**
     * {@code s} (a parser's message, which may quote the input) fit for a one-line error: line
     * breaks and the blanks around them become one space, other control characters '?', and at
     * most 300 characters are kept.
     */
    public static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        String flat = s.replaceAll("\\s*\\R\\s*", " ").replaceAll("\\p{Cntrl}", "?");
        return flat.length() > 300 ? flat.substring(0, 300) + "..." : flat;
    }
}
