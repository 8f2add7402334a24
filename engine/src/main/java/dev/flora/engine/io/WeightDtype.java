package dev.flora.engine.io;

import java.util.Locale;

/**
 * The number format a model file stores its weights in. The engine computes in fp32 either way;
 * bf16 halves the file (and what a reader maps) at bf16's 8-bit mantissa, the format timm users
 * ship ViTs in and that the CPU backend's bf16 mode rounds the linear weights to anyway.
 */
public enum WeightDtype {
    F32("F32", Float.BYTES),
    BF16("BF16", 2);

    private final String safetensorsName;
    private final int bytes;

    WeightDtype(String safetensorsName, int bytes) {
        this.safetensorsName = safetensorsName;
        this.bytes = bytes;
    }

    /** The dtype string of the safetensors header. */
    public String safetensorsName() {
        return safetensorsName;
    }

    public int bytes() {
        return bytes;
    }

    /** f32 or bf16, any case. */
    public static WeightDtype parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "f32", "fp32", "float32" -> F32;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("unknown weight dtype '" + s + "' (expected f32 or bf16)");
        };
    }

    /** {@code f} rounded to the nearest bf16 (ties to even), as its 16 bits; NaN stays a quiet NaN. */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }
}
