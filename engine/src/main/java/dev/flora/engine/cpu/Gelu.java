package dev.flora.engine.cpu;

/**
 * Exact (erf) GELU over float arrays, written so that HotSpot vectorizes every loop: erf is a
 * rational function erf(s) = s·P(s²)/Q(s²) on |s| ≤ 4, clamped beyond (erf(4) = 1 − 1.5e-8).
 * Coefficients from {@code tools/fit_approximations.py}; the float32 evaluation is within
 * 4.1e-7 of erf everywhere (2·10^6 points in [−12, 12]), and its derivative within 2e-6 of erf'.
 *
 * <p>The clamp is written 0.5·(|s + 4| − |s − 4|): the forward loop ran faster with the
 * absolute values than with {@code Math.max}/{@code Math.min} (JDK 17). It costs at most an
 * ulp of 4 in s, which leaves the largest error above unchanged.
 *
 * <p>C2 only vectorizes loops it may unroll, and it unrolls only bodies under
 * {@code -XX:LoopUnrollLimit} (60 nodes by default). The backward pass is therefore four short
 * loops over block-sized scratch arrays, each small enough to be vectorized, rather than one
 * long loop that C2 would leave scalar. One instance per worker; not thread-safe.
 */
final class Gelu {
    static final float P0 = 1.1283790461e+00f;
    static final float P1 = 1.9230819372e-01f;
    static final float P2 = 5.2981763042e-02f;
    static final float P3 = 3.8447062871e-03f;
    static final float P4 = 2.8618799736e-04f;
    static final float P5 = 2.0272865691e-06f;
    static final float Q1 = 5.0376059856e-01f;
    static final float Q2 = 1.1487953591e-01f;
    static final float Q3 = 1.5124428909e-02f;
    static final float Q4 = 1.1810574160e-03f;
    static final float Q5 = 3.7928556027e-05f;
    /** Coefficients of P'(t) and Q'(t). */
    private static final float DP2 = 2 * P2;
    private static final float DP3 = 3 * P3;
    private static final float DP4 = 4 * P4;
    private static final float DP5 = 5 * P5;
    private static final float DQ2 = 2 * Q2;
    private static final float DQ3 = 3 * Q3;
    private static final float DQ4 = 4 * Q4;
    private static final float DQ5 = 5 * Q5;
    static final float CLAMP = 4f;
    static final float INV_SQRT2 = 0.70710678118654752f;

    private final float[] s;
    private final float[] ratio;
    private final float[] invQ;

    /** Scratch for blocks of up to {@code block} elements. */
    Gelu(int block) {
        this.s = new float[block];
        this.ratio = new float[block];
        this.invQ = new float[block];
    }

    /**
     * y[i] = x[i] · Φ(x[i]) for from ≤ i &lt; to. Plain multiply-adds here: in a block of its own the
     * fused form was faster, but inside the backend's GELU (fc1's output streamed through, one
     * training or inference lane, {@code OpProfile}) it was the slower one, reason not found,
     * and the op in the model is what counts.
     */
    static void forward(float[] x, float[] y, int from, int to) {
        for (int i = from; i < to; i++) {
            float v = x[i];
            float sv = clamp(v * INV_SQRT2);
            float t = sv * sv;
            float p = ((((P5 * t + P4) * t + P3) * t + P2) * t + P1) * t + P0;
            float q = ((((Q5 * t + Q4) * t + Q3) * t + Q2) * t + Q1) * t + 1f;
            y[i] = v * (0.5f + 0.5f * sv * p / q);
        }
    }

    /** s limited to [−4, 4], without min or max (see the class comment). */
    private static float clamp(float s) {
        return 0.5f * (Math.abs(s + CLAMP) - Math.abs(s - CLAMP));
    }

    /**
     * dx[i] = dy[i] · (Φ(x) + x·Φ'(x)) for i &lt; n (n at most the block size). With s = x/√2
     * and r = P/Q: erf'(s) = r + 2t(P' − r·Q')/Q, and Φ'(x) = erf'(s) / (2√2).
     */
    void backward(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i++) {
            float sv = clamp(x[i] * INV_SQRT2);
            float t = sv * sv;
            s[i] = sv;
            invQ[i] = 1f / poly(t, Q5, Q4, Q3, Q2, Q1, 1f);
        }
        for (int i = 0; i < n; i++) {
            float t = s[i] * s[i];
            ratio[i] = poly(t, P5, P4, P3, P2, P1, P0) * invQ[i];
        }
        for (int i = 0; i < n; i++) {
            float t = s[i] * s[i];
            float dp = poly(t, DP5, DP4, DP3, DP2, P1);
            float dq = poly(t, DQ5, DQ4, DQ3, DQ2, Q1);
            float r = ratio[i];
            dx[i] = MulAdd.of(2f * t * MulAdd.of(-r, dq, dp), invQ[i], r); // erf'(s), finished below
        }
        for (int i = 0; i < n; i++) {
            dx[i] = dy[i] * MulAdd.of(x[i] * (0.5f * INV_SQRT2), dx[i], MulAdd.of(0.5f * s[i], ratio[i], 0.5f));
        }
    }

    /** c5·t⁵ + … + c0 by Horner's rule, each step one {@link MulAdd}. */
    private static float poly(float t, float c5, float c4, float c3, float c2, float c1, float c0) {
        return MulAdd.of(poly(t, c5, c4, c3, c2, c1), t, c0);
    }

    /** c4·t⁴ + … + c0 by Horner's rule, each step one {@link MulAdd}. */
    private static float poly(float t, float c4, float c3, float c2, float c1, float c0) {
        return MulAdd.of(MulAdd.of(MulAdd.of(MulAdd.of(c4, t, c3), t, c2), t, c1), t, c0);
    }
}
