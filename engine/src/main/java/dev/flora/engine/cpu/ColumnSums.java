package dev.flora.engine.cpu;

import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;

import dev.flora.engine.tensor.HostStorage;
import dev.flora.engine.tensor.Tensor;
import java.nio.FloatBuffer;
import org.bytedeco.openblas.global.openblas;

/**
 * Column sums of row-major blocks (bias gradients), and the ordered sum of per-part partials.
 *
 * <p>The sums run as OpenBLAS's gemv against a vector of ones: its kernel streams the block
 * once with every column's sum in a vector register. A Java loop adding row after row into a
 * sum array was slower: it loads and stores every sum again for each row. OpenBLAS runs on
 * one thread here ({@link OpenBlasKernels}), and its gemv adds the rows in the same order
 * whatever the memory alignment, so sums stay reproducible.
 */
final class ColumnSums {
    /** Rows per gemv call: the length of the ones vector. */
    private static final int PIECE_ROWS = 4096;
    private static final Tensor ONES = ones(PIECE_ROWS);

    private ColumnSums() {
    }

    private static Tensor ones(int n) {
        HostStorage s = new HostStorage(n);
        FloatBuffer b = s.buffer();
        for (int i = 0; i < n; i++) {
            b.put(i, 1f);
        }
        return new Tensor(s, 0, n);
    }

    /**
     * out[outOff + j] = beta·out[outOff + j] + Σ_i a[aOff + i·cols + j] for j &lt; cols, i &lt; rows.
     */
    static void sum(Tensor a, long aOff, int rows, int cols, float beta, Tensor out, long outOff) {
        if (rows == 0) { // gemv is not called with no rows: only the scaling is left
            FloatBuffer ob = CpuBackend.buf(out);
            int o = CpuBackend.base(out) + Math.toIntExact(outOff);
            for (int j = 0; j < cols; j++) {
                ob.put(o + j, beta == 0f ? 0f : beta * ob.get(o + j));
            }
            return;
        }
        for (int r = 0; r < rows; r += PIECE_ROWS) {
            int n = Math.min(PIECE_ROWS, rows - r);
            openblas.cblas_sgemv(CblasRowMajor, CblasTrans, n, cols, 1f, CpuBackend.ptr(a, aOff + (long) r * cols),
                    cols, CpuBackend.ptr(ONES, 0), 1, r == 0 ? beta : 1f, CpuBackend.ptr(out, outOff), 1);
        }
    }

    /**
     * target[i, :cols] (leading dimension ld) += Σ_p partials[start + p·stride + i·cols + :cols],
     * the parts in order. Each part is one contiguous block, copied whole: row by row, the 384
     * rows of a 384x32 dU took four buffer copies each, more than the additions.
     */
    static void addParts(Tensor target, int ld, Tensor partials, long start, long stride, int parts, int rows,
                         int cols) {
        FloatBuffer tb = CpuBackend.buf(target);
        int to = CpuBackend.base(target);
        FloatBuffer pb = CpuBackend.buf(partials);
        int po = CpuBackend.base(partials);
        int n = rows * cols;
        // called after the parallel section, so the body slots are free on this thread
        float[] acc = Scratch.floats(Scratch.BODY_A, n);
        float[] part = Scratch.floats(Scratch.BODY_B, n);
        if (ld == cols) {
            tb.get(to, acc, 0, n);
        } else {
            for (int i = 0; i < rows; i++) {
                tb.get(to + i * ld, acc, i * cols, cols);
            }
        }
        for (int p = 0; p < parts; p++) {
            pb.get(Math.toIntExact(po + start + p * stride), part, 0, n);
            CpuBackend.addRow(acc, part, n);
        }
        if (ld == cols) {
            tb.put(to, acc, 0, n);
        } else {
            for (int i = 0; i < rows; i++) {
                tb.put(to + i * ld, acc, i * cols, cols);
            }
        }
    }
}
