package dev.flora.engine.reference;

import dev.flora.engine.backend.Precision;

/** fp32 values rounded as the reduced-precision hardware formats round them. */
public final class Rounding {
    private Rounding() {
    }

    /** tf32: 10 mantissa bits, ties away from zero; bf16: 7 bits, ties to even; fp32 unchanged. */
    public static float round(float v, Precision p) {
        int b = Float.floatToRawIntBits(v);
        if (p == Precision.TF32) {
            return Float.intBitsToFloat((b + 0x1000) & 0xffffe000);
        }
        if (p == Precision.BF16) {
            return Float.intBitsToFloat((b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000);
        }
        return v;
    }

    public static float[] rounded(float[] v, Precision p) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = round(v[i], p);
        }
        return out;
    }
}
