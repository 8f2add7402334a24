package dev.flora.engine.cpu;

import static dev.flora.engine.cpu.CpuBackend.base;

import dev.flora.engine.tensor.HostStorage;
import dev.flora.engine.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link CpuKernels} with the Vector API at the CPU's widest float vector. What the scalar loops
 * cannot have:
 * <ul>
 *   <li>reductions into one float, which C2 leaves scalar because it may not reorder float
 *   adds (layernorm's mean and variance);</li>
 *   <li>the exponent of 2^k built in integer lanes, which C2 does not vectorize (softmax's
 *   exponential);</li>
 *   <li>GELU in place in the tensor's memory, which is 64-byte aligned ({@link HostStorage}),
 *   rather than through a heap copy, whose data is only 8-byte aligned: at 64-byte vectors a
 *   copy that straddles cache lines is slower, and whether it does changes from run to run.
 *   That needs byte-buffer access, which the Vector API of JDK 19 and later no longer has;
 *   there GELU goes through heap copies.</li>
 * </ul>
 * Layernorm and softmax still go through heap copies: their rows are short, and on the tensor's
 * memory they were slower. Elements past the last whole vector go through scalar code: the
 * exponential and GELU tails through {@link FastExp} and {@link Gelu}, whose coefficients these
 * loops share.
 *
 * <p>Only loaded by {@link CpuKernels#selected()} when the JVM has the
 * {@code jdk.incubator.vector} module; referring to it anywhere else would fail to link.
 */
final class VectorCpuKernels implements CpuKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = F.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Below 8 floats a vector (no AVX), the scalar loops, which C2 vectorizes too, are as fast. */
    private static final int MIN_LANES = 8;

    /**
     * Whether GELU works in the tensors' memory: where this JDK's Vector API loads from and
     * stores to byte buffers. JDK 17 and 18 do; from JDK 19 those methods are gone (memory
     * segments replaced them), and GELU goes through heap copies there instead. The calls to
     * them are never resolved where they are missing.
     */
    private final boolean inPlace;

    /** GELU in place where this JDK allows it. */
    VectorCpuKernels() {
        this(hasBufferAccess());
    }

    /** With GELU in the tensors' memory or through heap copies (the tests run both). */
    VectorCpuKernels(boolean inPlace) {
        this.inPlace = inPlace;
    }

    /**
     * Whether these kernels beat the scalar ones here: wide enough vectors, and a hardware FMA,
     * without which {@link FloatVector#fma} is a software loop.
     */
    static boolean worthUsing() {
        return LANES >= MIN_LANES && MulAdd.FUSED;
    }

    private static ByteBuffer bytes(Tensor t) {
        CpuBackend.buf(t); // checks that t is on the host
        return ((HostStorage) t.storage()).bytes();
    }

    /** Whether {@link FloatVector} has {@code fromByteBuffer} (JDK 17 and 18). */
    static boolean hasBufferAccess() {
        try {
            FloatVector.class.getMethod("fromByteBuffer", VectorSpecies.class, ByteBuffer.class, int.class,
                    ByteOrder.class);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    private static FloatVector load(ByteBuffer b, int floatIndex) {
        return FloatVector.fromByteBuffer(F, b, floatIndex * Float.BYTES, ORDER);
    }

    private static void store(FloatVector v, ByteBuffer b, int floatIndex) {
        v.intoByteBuffer(b, floatIndex * Float.BYTES, ORDER);
    }

    @Override
    public void geluForward(Tensor x, Tensor y, int from, int to) {
        int end = from + F.loopBound(to - from);
        if (inPlace) {
            geluInPlace(x, y, from, end);
        } else {
            geluThroughCopies(x, y, from, end);
        }
        if (end < to) {
            float[] tail = Scratch.floats(Scratch.BODY_A, LANES);
            int n = to - end;
            CpuBackend.buf(x).get(base(x) + end, tail, 0, n);
            Gelu.forward(tail, tail, 0, n);
            CpuBackend.buf(y).put(base(y) + end, tail, 0, n);
        }
    }

    /** GELU over whole vectors [from, end) in the tensors' own aligned memory. */
    private static void geluInPlace(Tensor x, Tensor y, int from, int end) {
        ByteBuffer xb = bytes(x);
        ByteBuffer yb = bytes(y);
        int xo = base(x);
        int yo = base(y);
        for (int i = from; i < end; i += LANES) {
            store(gelu(load(xb, xo + i)), yb, yo + i);
        }
    }

    /** GELU over whole vectors [from, end) through heap blocks (JDKs without buffer access). */
    private static void geluThroughCopies(Tensor x, Tensor y, int from, int end) {
        FloatBuffer xb = CpuBackend.buf(x);
        FloatBuffer yb = CpuBackend.buf(y);
        int xo = base(x);
        int yo = base(y);
        float[] v = Scratch.floats(Scratch.BODY_A, CpuBackend.BLOCK);
        for (int i = from; i < end; i += CpuBackend.BLOCK) {
            int n = Math.min(CpuBackend.BLOCK, end - i);
            xb.get(xo + i, v, 0, n);
            for (int j = 0; j < n; j += LANES) {
                gelu(FloatVector.fromArray(F, v, j)).intoArray(v, j);
            }
            yb.put(yo + i, v, 0, n);
        }
    }

    /** v·Φ(v) by {@link Gelu}'s rational erf, one vector. */
    private static FloatVector gelu(FloatVector v) {
        FloatVector s = v.mul(Gelu.INV_SQRT2).max(-Gelu.CLAMP).min(Gelu.CLAMP);
        FloatVector t = s.mul(s);
        FloatVector p = step(step(step(step(step(
                t.broadcast(Gelu.P5), t, Gelu.P4), t, Gelu.P3), t, Gelu.P2), t, Gelu.P1), t, Gelu.P0);
        FloatVector q = step(step(step(step(step(
                t.broadcast(Gelu.Q5), t, Gelu.Q4), t, Gelu.Q3), t, Gelu.Q2), t, Gelu.Q1), t, 1f);
        return s.mul(p).div(q).fma(0.5f, 0.5f).mul(v);
    }

    @Override
    public void layerNormRows(Tensor x, Tensor y, Tensor mean, Tensor rstd, float[] gamma, float[] beta, float eps,
                              int cols, int from, int to) {
        FloatBuffer xb = CpuBackend.buf(x);
        FloatBuffer yb = CpuBackend.buf(y);
        FloatBuffer mb = CpuBackend.buf(mean);
        FloatBuffer rb = CpuBackend.buf(rstd);
        int xo = base(x);
        int yo = base(y);
        int mo = base(mean);
        int ro = base(rstd);
        // a block's rows stay in the L1 cache through their three passes
        int blockRows = Math.max(1, CpuBackend.BLOCK / cols);
        float[] v = Scratch.floats(Scratch.BODY_A, blockRows * cols);
        float[] stats = Scratch.floats(Scratch.BODY_B, 2 * blockRows);
        for (int r0 = from; r0 < to; r0 += blockRows) {
            int rows = Math.min(blockRows, to - r0);
            xb.get(xo + r0 * cols, v, 0, rows * cols);
            layerNorm(v, rows, cols, gamma, beta, eps, stats, blockRows);
            yb.put(yo + r0 * cols, v, 0, rows * cols);
            mb.put(mo + r0, stats, 0, rows);
            rb.put(ro + r0, stats, blockRows, rows);
        }
    }

    /**
     * Layernorm of {@code rows} rows of v in place; row r's mean goes to stats[r] and its rstd
     * to stats[rstdAt + r], so that each goes out in one bulk copy.
     */
    private static void layerNorm(float[] v, int rows, int cols, float[] gamma, float[] beta, float eps,
                                  float[] stats, int rstdAt) {
        int bound = F.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            float mu = sum(v, o, cols) / cols;
            FloatVector sq = FloatVector.zero(F);
            int j = 0;
            for (; j < bound; j += LANES) {
                FloatVector d = FloatVector.fromArray(F, v, o + j).sub(mu);
                sq = d.fma(d, sq);
            }
            float var = sq.reduceLanes(VectorOperators.ADD);
            for (; j < cols; j++) {
                float d = v[o + j] - mu;
                var += d * d;
            }
            float rs = (float) (1.0 / Math.sqrt(var / cols + eps));
            for (j = 0; j < bound; j += LANES) {
                FloatVector xhat = FloatVector.fromArray(F, v, o + j).sub(mu).mul(rs);
                xhat.fma(FloatVector.fromArray(F, gamma, j), FloatVector.fromArray(F, beta, j)).intoArray(v, o + j);
            }
            for (; j < cols; j++) {
                v[o + j] = (v[o + j] - mu) * rs * gamma[j] + beta[j];
            }
            stats[r] = mu;
            stats[rstdAt + r] = rs;
        }
    }

    /** Σ v[off + j], j &lt; n: whole vectors, then the elements past the last one. */
    private static float sum(float[] v, int off, int n) {
        int bound = F.loopBound(n);
        FloatVector acc = FloatVector.zero(F);
        int j = 0;
        for (; j < bound; j += LANES) {
            acc = acc.add(FloatVector.fromArray(F, v, off + j));
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; j < n; j++) {
            sum += v[off + j];
        }
        return sum;
    }

    /** Through a heap copy of the rows (see the class comment). */
    @Override
    public void softmaxRows(Tensor s, int cols, int from, int to) {
        FloatBuffer sb = CpuBackend.buf(s);
        int off = base(s) + from * cols;
        int n = (to - from) * cols;
        float[] v = Scratch.floats(Scratch.BODY_A, n);
        float[] scratch = Scratch.floats(Scratch.BODY_B, n);
        sb.get(off, v, 0, n);
        softmax(v, n, cols, scratch);
        sb.put(off, v, 0, n);
    }

    /**
     * Softmax of the n / cols rows in v, in three passes: subtract each row's max, exponentials
     * over all of them as one run (one scalar tail, not one per row), divide by each row's sum.
     */
    private static void softmax(float[] v, int n, int cols, float[] scratch) {
        int bound = F.loopBound(cols);
        for (int o = 0; o < n; o += cols) {
            FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            int j = 0;
            for (; j < bound; j += LANES) {
                m = m.max(FloatVector.fromArray(F, v, o + j));
            }
            float max = m.reduceLanes(VectorOperators.MAX);
            for (; j < cols; j++) {
                max = Math.max(max, v[o + j]);
            }
            for (j = 0; j < bound; j += LANES) {
                FloatVector.fromArray(F, v, o + j).sub(max).intoArray(v, o + j);
            }
            for (; j < cols; j++) {
                v[o + j] -= max;
            }
        }
        expInPlace(v, n, scratch);
        for (int o = 0; o < n; o += cols) {
            float inv = 1f / sum(v, o, cols);
            int j = 0;
            for (; j < bound; j += LANES) {
                FloatVector.fromArray(F, v, o + j).mul(inv).intoArray(v, o + j);
            }
            for (; j < cols; j++) {
                v[o + j] *= inv;
            }
        }
    }

    /**
     * x[i] = exp(x[i]) for i &lt; n by {@link FastExp}'s method. Its scaling by 2^k is done in
     * integer lanes: t + 1.5·2^23 holds round(t) in its low mantissa bits, and the shift by 23
     * drops the rest. A float-to-int conversion instead made the softmax slower than the scalar
     * one (JDK 17). {@code scratch} holds at least n floats, for the scalar tail.
     */
    private static void expInPlace(float[] x, int n, float[] scratch) {
        int bound = F.loopBound(n);
        for (int i = 0; i < bound; i += LANES) {
            FloatVector t = FloatVector.fromArray(F, x, i).max(FastExp.LOW).min(FastExp.HIGH).mul(FastExp.LOG2E);
            FloatVector shifted = t.add(FastExp.ROUND);
            FloatVector f = t.sub(shifted.sub(FastExp.ROUND));
            FloatVector c = step(step(step(step(step(step(
                    f.broadcast(FastExp.C6), f, FastExp.C5), f, FastExp.C4), f, FastExp.C3), f, FastExp.C2),
                    f, FastExp.C1), f, FastExp.C0);
            IntVector bits = ((IntVector) shifted.reinterpretAsInts()).add(127).lanewise(VectorOperators.LSHL, 23);
            c.mul(bits.reinterpretAsFloats()).intoArray(x, i);
        }
        FastExp.expInPlace(x, bound, n, scratch);
    }

    /** One step of Horner's rule: acc·x + c, as one fused multiply-add. */
    private static FloatVector step(FloatVector acc, FloatVector x, float c) {
        return acc.fma(x, FloatVector.broadcast(F, c));
    }

    @Override
    public String describe() {
        return "Vector API, " + LANES + " floats";
    }
}
