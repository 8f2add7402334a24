package dev.flora.engine.backend;

/**
 * A 2-D block of the parameter arena that an optimizer step updates: {@code rows} rows of
 * {@code cols} elements, {@code ld} apart, from {@code offset}; {@code decay} says whether
 * weight decay applies. A whole parameter is one row of all its elements.
 */
public record Region(long offset, int rows, int cols, int ld, boolean decay) {

    /** A contiguous run of {@code length} elements. */
    public static Region run(long offset, long length, boolean decay) {
        int n = Math.toIntExact(length);
        return new Region(offset, 1, n, n, decay);
    }

    public boolean contiguous() {
        return rows == 1 || ld == cols;
    }

    public long length() {
        return (long) rows * cols;
    }
}
