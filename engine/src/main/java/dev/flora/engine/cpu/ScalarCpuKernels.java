package dev.flora.engine.cpu;

import static dev.flora.engine.cpu.CpuBackend.BLOCK;
import static dev.flora.engine.cpu.CpuBackend.base;
import static dev.flora.engine.cpu.CpuBackend.buf;

import dev.flora.engine.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * {@link CpuKernels} as plain Java loops over this thread's {@link Scratch} arrays; runs on any
 * JVM. Bulk copies in and out of the tensors' buffers, because C2 vectorizes loops over arrays
 * but not over buffers.
 */
final class ScalarCpuKernels implements CpuKernels {
    @Override
    public void geluForward(Tensor x, Tensor y, int from, int to) {
        FloatBuffer xb = buf(x);
        FloatBuffer yb = buf(y);
        int xo = base(x);
        int yo = base(y);
        float[] in = Scratch.floats(Scratch.BODY_A, BLOCK);
        float[] out = Scratch.floats(Scratch.BODY_B, BLOCK);
        for (int i = from; i < to; i += BLOCK) {
            int l = Math.min(BLOCK, to - i);
            xb.get(xo + i, in, 0, l);
            Gelu.forward(in, out, 0, l);
            yb.put(yo + i, out, 0, l);
        }
    }

    /**
     * A row at a time, in one row-long array: the same loops over blocks of rows, at offsets
     * into a longer array, were slower per inference lane.
     */
    @Override
    public void layerNormRows(Tensor x, Tensor y, Tensor mean, Tensor rstd, float[] gamma, float[] beta, float eps,
                              int cols, int from, int to) {
        FloatBuffer xb = buf(x);
        FloatBuffer yb = buf(y);
        FloatBuffer mb = buf(mean);
        FloatBuffer rb = buf(rstd);
        int xo = base(x);
        int yo = base(y);
        int mo = base(mean);
        int ro = base(rstd);
        float[] row = Scratch.floats(Scratch.BODY_A, cols);
        for (int r = from; r < to; r++) {
            xb.get(xo + r * cols, row, 0, cols);
            float mu = RowReductions.sum(row, 0, cols) / cols;
            float var = RowReductions.squaredDeviation(row, 0, cols, mu);
            float rs = (float) (1.0 / Math.sqrt(var / cols + eps));
            for (int j = 0; j < cols; j++) {
                row[j] = (row[j] - mu) * rs * gamma[j] + beta[j];
            }
            yb.put(yo + r * cols, row, 0, cols);
            mb.put(mo + r, mu);
            rb.put(ro + r, rs);
        }
    }

    /** All the rows in one block, so that the exponentials run as one long vectorized loop. */
    @Override
    public void softmaxRows(Tensor s, int cols, int from, int to) {
        FloatBuffer sb = buf(s);
        int off = base(s) + from * cols;
        int n = (to - from) * cols;
        float[] v = Scratch.floats(Scratch.BODY_A, n);
        float[] scratch = Scratch.floats(Scratch.BODY_B, n);
        sb.get(off, v, 0, n);
        for (int o = 0; o < n; o += cols) {
            float max = RowReductions.max(v, o, cols);
            for (int j = 0; j < cols; j++) {
                v[o + j] -= max;
            }
        }
        FastExp.expInPlace(v, 0, n, scratch);
        for (int o = 0; o < n; o += cols) {
            float inv = 1f / RowReductions.sum(v, o, cols);
            for (int j = 0; j < cols; j++) {
                v[o + j] *= inv;
            }
        }
        sb.put(off, v, 0, n);
    }

    @Override
    public String describe() {
        return "scalar loops";
    }
}
