package dev.flora.engine.backend;

import dev.flora.engine.tensor.Tensor;

/** Argument checks shared by backends: an op must never read or write outside a tensor. */
public final class Checks {
    private Checks() {
    }

    /** Fails unless {@code t} holds at least {@code needed} elements. */
    public static void fits(Tensor t, long needed, String what) {
        if (needed > t.numel()) {
            throw new IllegalArgumentException(what + ": needs " + needed + " elements, tensor " + t + " has "
                    + t.numel());
        }
    }

    /** An AdamW region lies inside all four arenas; returns the element just past it. */
    public static long adamwRegion(Region r, Tensor params, Tensor grads, Tensor m, Tensor v) {
        long end = r.offset() + extent(r.rows(), r.cols(), r.ld());
        fits(params, end, "adamw params");
        fits(grads, end, "adamw grads");
        fits(m, end, "adamw first moment");
        fits(v, end, "adamw second moment");
        return end;
    }

    /** Elements spanned by a row-major [rows, cols] matrix with leading dimension ld. */
    public static long extent(int rows, int cols, int ld) {
        if (rows == 0 || cols == 0) {
            return 0;
        }
        if (ld < cols) {
            throw new IllegalArgumentException("leading dimension " + ld + " is smaller than the row length " + cols);
        }
        return (long) (rows - 1) * ld + cols;
    }

    /** Checks one gemm operand: stored rows x cols (after undoing the transpose) with leading dim ld. */
    public static void matrix(Tensor t, boolean trans, int opRows, int opCols, int ld, String name) {
        int rows = trans ? opCols : opRows;
        int cols = trans ? opRows : opCols;
        fits(t, extent(rows, cols, ld), "gemm operand " + name);
    }

    /** Checks one batched gemm operand: the last problem must end inside the tensor. */
    public static void batchedMatrix(Tensor t, boolean trans, int opRows, int opCols, int ld, long stride,
                                     int batch, String name) {
        int rows = trans ? opCols : opRows;
        int cols = trans ? opRows : opCols;
        long one = extent(rows, cols, ld);
        if (batch > 0 && one > 0) {
            fits(t, stride * (batch - 1) + one, "batched gemm operand " + name);
        }
    }
}
