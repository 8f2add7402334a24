package dev.flora.engine.cpu;

/**
 * Per-thread float arrays for the bodies of element-wise ops, so that an op in steady state
 * allocates nothing (single-image inference runs dozens of ops per image; fresh scratch cost
 * about a megabyte per image). Arrays only grow, and hold whatever the last user left.
 *
 * <p>Slots {@code BODY_*} belong to a loop body for the time it runs; a body must not call
 * another op while it holds them. Slots {@code OP_*} hold a vector the calling thread prepares
 * before the loop (a bias, layernorm weights) and that every body only reads.
 */
final class Scratch {
    static final int BODY_A = 0;
    static final int BODY_B = 1;
    static final int OP_A = 2;
    static final int OP_B = 3;
    private static final int SLOTS = 4;

    private static final ThreadLocal<float[][]> ARRAYS = ThreadLocal.withInitial(() -> new float[SLOTS][0]);

    private Scratch() {
    }

    /** This thread's array in {@code slot}, at least {@code length} long, contents undefined. */
    static float[] floats(int slot, int length) {
        float[][] arrays = ARRAYS.get();
        if (arrays[slot].length < length) {
            arrays[slot] = new float[length];
        }
        return arrays[slot];
    }
}
