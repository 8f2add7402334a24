package dev.flora.data;

import java.util.Random;

/**
 * Seeds for the per-step and per-batch random streams. {@link java.util.Random} barely scrambles
 * its seed: the first draws of {@code new Random(s)} and {@code new Random(s + 1)} differ by
 * about 1e-4, so streams seeded by a bare step counter make nearly the same first choice for
 * thousands of steps. Each seed goes through SplitMix64's finalizer first.
 */
public final class Seeds {
    private Seeds() {
    }

    /** A well-mixed seed for item {@code index} of stream {@code stream} under {@code seed}. */
    public static long mix(long seed, long stream, long index) {
        long z = seed * 0x9E3779B97F4A7C15L + stream * 0xBF58476D1CE4E5B9L + index * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** 0 .. n-1 in the order of a Fisher–Yates shuffle drawn from {@code rng} (identity when rng is null). */
    public static int[] permutation(int n, Random rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        if (rng != null) {
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
        }
        return p;
    }
}
