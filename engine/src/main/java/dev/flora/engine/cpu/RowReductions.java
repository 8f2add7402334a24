package dev.flora.engine.cpu;

/**
 * Sums, maxima and dot products over a short row (a softmax row of 50, a layernorm row of 128).
 * A plain {@code sum += v[j]} loop is one dependent chain of float adds that C2 may not reorder,
 * so it runs at the add latency; eight independent accumulators keep eight adds in flight and
 * run at the add throughput instead. The summation order therefore
 * differs from a left-to-right sum by rounding only.
 */
final class RowReductions {
    private static final int LANES = 8;

    private RowReductions() {
    }

    /** Σ v[off + j], j &lt; n. */
    static float sum(float[] v, int off, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        float s4 = 0;
        float s5 = 0;
        float s6 = 0;
        float s7 = 0;
        int j = 0;
        for (; j + LANES <= n; j += LANES) {
            int o = off + j;
            s0 += v[o];
            s1 += v[o + 1];
            s2 += v[o + 2];
            s3 += v[o + 3];
            s4 += v[o + 4];
            s5 += v[o + 5];
            s6 += v[o + 6];
            s7 += v[o + 7];
        }
        for (; j < n; j++) {
            s0 += v[off + j];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /**
     * max over v[off + j], j &lt; n; −∞ for n = 0, NaN if any element is NaN (as PyTorch's
     * softmax). {@link Math#max} is branch-free here; an {@code a > m ? a : m} compare compiles
     * to a branch, and on attention scores, whose order is random, that branch is mispredicted
     * so often that it slows the whole attention core ({@code AttentionBenchmark}, Gaussian
     * scores, one thread).
     */
    static float max(float[] v, int off, int n) {
        float m0 = Float.NEGATIVE_INFINITY;
        float m1 = Float.NEGATIVE_INFINITY;
        float m2 = Float.NEGATIVE_INFINITY;
        float m3 = Float.NEGATIVE_INFINITY;
        float m4 = Float.NEGATIVE_INFINITY;
        float m5 = Float.NEGATIVE_INFINITY;
        float m6 = Float.NEGATIVE_INFINITY;
        float m7 = Float.NEGATIVE_INFINITY;
        int j = 0;
        for (; j + LANES <= n; j += LANES) {
            int o = off + j;
            m0 = Math.max(m0, v[o]);
            m1 = Math.max(m1, v[o + 1]);
            m2 = Math.max(m2, v[o + 2]);
            m3 = Math.max(m3, v[o + 3]);
            m4 = Math.max(m4, v[o + 4]);
            m5 = Math.max(m5, v[o + 5]);
            m6 = Math.max(m6, v[o + 6]);
            m7 = Math.max(m7, v[o + 7]);
        }
        for (; j < n; j++) {
            m0 = Math.max(m0, v[off + j]);
        }
        return Math.max(Math.max(Math.max(m0, m1), Math.max(m2, m3)), Math.max(Math.max(m4, m5), Math.max(m6, m7)));
    }

    /** Σ a[aOff + j] · b[bOff + j], j &lt; n. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        float s4 = 0;
        float s5 = 0;
        float s6 = 0;
        float s7 = 0;
        int j = 0;
        for (; j + LANES <= n; j += LANES) {
            int p = aOff + j;
            int q = bOff + j;
            s0 += a[p] * b[q];
            s1 += a[p + 1] * b[q + 1];
            s2 += a[p + 2] * b[q + 2];
            s3 += a[p + 3] * b[q + 3];
            s4 += a[p + 4] * b[q + 4];
            s5 += a[p + 5] * b[q + 5];
            s6 += a[p + 6] * b[q + 6];
            s7 += a[p + 7] * b[q + 7];
        }
        for (; j < n; j++) {
            s0 += a[aOff + j] * b[bOff + j];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /** Σ (v[off + j] − mu)², j &lt; n. */
    static float squaredDeviation(float[] v, int off, int n, float mu) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        float s4 = 0;
        float s5 = 0;
        float s6 = 0;
        float s7 = 0;
        int j = 0;
        for (; j + LANES <= n; j += LANES) {
            int o = off + j;
            float d0 = v[o] - mu;
            float d1 = v[o + 1] - mu;
            float d2 = v[o + 2] - mu;
            float d3 = v[o + 3] - mu;
            float d4 = v[o + 4] - mu;
            float d5 = v[o + 5] - mu;
            float d6 = v[o + 6] - mu;
            float d7 = v[o + 7] - mu;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
            s4 += d4 * d4;
            s5 += d5 * d5;
            s6 += d6 * d6;
            s7 += d7 * d7;
        }
        for (; j < n; j++) {
            float d = v[off + j] - mu;
            s0 += d * d;
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }
}
