package dev.flora.engine.backend;

import java.util.Locale;

/**
 * The number format of a backend's matrix products. Everything else (layernorm, softmax,
 * GELU, accumulation, the weights the optimizer updates) stays fp32 in every mode.
 * <ul>
 * <li>{@code FP32}: fp32 in, fp32 out.</li>
 * <li>{@code TF32}: the GPU's tensor-core format (fp32 range, 10-bit mantissa); GPU only.</li>
 * <li>{@code BF16}: inputs rounded to bfloat16 (fp32 range, 7-bit mantissa), products
 *     accumulated in fp32. On the CPU it needs AVX512-BF16; inference keeps the weights converted,
 *     mixed-precision training converts them on every product.</li>
 * </ul>
 */
public enum Precision {
    FP32, TF32, BF16;

    /** fp32, tf32 or bf16 (any case); {@code source} names where the value came from, for the error. */
    public static Precision parse(String value, String source) {
        try {
            return valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + " " + value + ": expected fp32, tf32 or bf16");
        }
    }

    /** The lower-case name users type. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
