package dev.flora.engine.cpu;

/**
 * The error function in float precision for the exact GELU. Abramowitz and Stegun 7.1.26:
 * absolute error below 1.5e-7 over the whole real line, well under float32's resolution of
 * the GELU output.
 */
final class Erf {
    private static final float P = 0.3275911f;
    private static final float A1 = 0.254829592f;
    private static final float A2 = -0.284496736f;
    private static final float A3 = 1.421413741f;
    private static final float A4 = -1.453152027f;
    private static final float A5 = 1.061405429f;

    private static final float INV_SQRT2 = 0.70710678118654752f;
    /** 1 / sqrt(2 pi). */
    private static final float INV_SQRT_2PI = 0.39894228040143268f;

    private Erf() {
    }

    static float erf(float x) {
        float ax = Math.abs(x);
        float t = 1f / (1f + P * ax);
        float poly = t * (A1 + t * (A2 + t * (A3 + t * (A4 + t * A5))));
        float y = 1f - poly * (float) Math.exp(-ax * ax);
        return x < 0 ? -y : y;
    }

    /** Phi(x), the standard normal CDF. */
    static float normalCdf(float x) {
        return 0.5f * (1f + erf(x * INV_SQRT2));
    }

    /** phi(x), the standard normal density. */
    static float normalPdf(float x) {
        return INV_SQRT_2PI * (float) Math.exp(-0.5f * x * x);
    }
}
