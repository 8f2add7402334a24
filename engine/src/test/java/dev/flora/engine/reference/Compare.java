package dev.flora.engine.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Tolerances for float32 results against an oracle: the largest element error must be within
 * {@code rel} of the oracle's largest magnitude (a per-tensor relative error, which is
 * meaningful even where single elements are near zero).
 */
public final class Compare {
    private Compare() {
    }

    public static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /** Relative error max|actual - expected| / max|expected|. */
    public static double relativeError(float[] actual, double[] expected) {
        assertEquals(expected.length, actual.length, "length");
        double err = 0;
        for (int i = 0; i < expected.length; i++) {
            err = Math.max(err, Math.abs(actual[i] - expected[i]));
        }
        double scale = maxAbs(expected);
        return scale == 0 ? err : err / scale;
    }

    /**
     * The largest per-element relative error |actual - expected| / |expected| over the elements
     * whose magnitude is at least {@code floor} times the largest (smaller ones are rounding
     * noise relative to themselves, and {@link #relativeError} covers them).
     */
    public static double elementRelativeError(float[] actual, double[] expected, double floor) {
        assertEquals(expected.length, actual.length, "length");
        double threshold = floor * maxAbs(expected);
        double err = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(expected[i]) >= threshold && expected[i] != 0) {
                err = Math.max(err, Math.abs(actual[i] - expected[i]) / Math.abs(expected[i]));
            }
        }
        return err;
    }

    public static void assertClose(String what, float[] actual, double[] expected, double rel) {
        double e = relativeError(actual, expected);
        if (!(e <= rel)) {
            int worst = 0;
            for (int i = 0; i < expected.length; i++) {
                if (Math.abs(actual[i] - expected[i]) > Math.abs(actual[worst] - expected[worst])) {
                    worst = i;
                }
            }
            fail(what + ": relative error " + e + " > " + rel + " (worst at " + worst + ": got " + actual[worst]
                    + ", expected " + expected[worst] + ", scale " + maxAbs(expected) + ")");
        }
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    public static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }
}
