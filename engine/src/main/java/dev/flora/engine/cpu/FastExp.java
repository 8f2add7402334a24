package dev.flora.engine.cpu;

/**
 * exp(x) in float32 for softmax: 2^(x·log2 e) split into 2^k · 2^f with f in [−0.5, 0.5],
 * 2^f by a degree-6 polynomial (coefficients from {@code tools/fit_approximations.py}),
 * 2^k by building the exponent bits. Relative error below 2e-7, all a float softmax needs:
 * cheaper than {@link Math#exp}, which computes a double-precision result, and in loops that
 * HotSpot vectorizes. Inputs are clamped to the float range.
 */
final class FastExp {
    static final float LOG2E = 1.44269504088896341f;
    /** Clamps of the argument: exp stays a normal float inside them. */
    static final float LOW = -87f;
    static final float HIGH = 88f;
    /** Adding and subtracting 1.5·2^23 rounds a float to the nearest integer. */
    static final float ROUND = 12582912f;
    static final float C0 = 1.000000001e+00f;
    static final float C1 = 6.931472057e-01f;
    static final float C2 = 2.402264689e-01f;
    static final float C3 = 5.550328777e-02f;
    static final float C4 = 9.618488981e-03f;
    static final float C5 = 1.339993117e-03f;
    static final float C6 = 1.534580553e-04f;

    private FastExp() {
    }

    /**
     * x[i] = exp(x[i]) for from ≤ i &lt; to, in two loops: the polynomial part, which HotSpot vectorizes,
     * then the scaling by 2^k, whose float-to-int and bit casts it does not (in JDK 17) but which
     * is cheap on its own; fused into one loop, they would keep the polynomial scalar too.
     * {@code k} is scratch of at least {@code to} floats.
     */
    static void expInPlace(float[] x, int from, int to, float[] k) {
        for (int i = from; i < to; i++) {
            float t = Math.max(LOW, Math.min(HIGH, x[i])) * LOG2E;
            float ki = (t + ROUND) - ROUND;
            float f = t - ki;
            k[i] = ki;
            float c = MulAdd.of(MulAdd.of(MulAdd.of(MulAdd.of(C6, f, C5), f, C4), f, C3), f, C2);
            x[i] = MulAdd.of(MulAdd.of(c, f, C1), f, C0);
        }
        for (int i = from; i < to; i++) {
            x[i] *= Float.intBitsToFloat(((int) k[i] + 127) << 23);
        }
    }
}
