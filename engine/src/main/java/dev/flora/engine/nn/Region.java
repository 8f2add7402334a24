package dev.flora.engine.nn;

/**
 * A 2-D block of the parameter arena that an optimizer step updates: {@code rows} rows of
 * {@code cols} elements, {@code ld} apart, from {@code offset}; {@code decay} says whether
 * weight decay applies. A whole parameter is one row of all its elements.
 */
public record Region(long offset, int rows, int cols, int ld, boolean decay) {

    /** A whole parameter as one contiguous row. */
    public static Region whole(Param p) {
        return new Region(p.offset(), 1, Math.toIntExact(p.numel()), Math.toIntExact(p.numel()), p.decay());
    }

    boolean contiguous() {
        return rows == 1 || ld == cols;
    }

    long length() {
        return (long) rows * cols;
    }
}
