package dev.flora.calibration;

import java.util.Locale;

/**
 * A factor L of an input covariance, C + λI = L·Lᵀ (Cholesky, L lower triangular), and its
 * inverse: with it ‖X·Δᵀ‖² = ‖Δ·L‖² for any weight change Δ (up to λ), so a truncation of W·L is
 * measured in the layer's output. The ridge λ keeps C positive definite where the calibration
 * images span fewer directions than the layer has inputs (the last block sees one row per image).
 */
public record Whitening(int n, double[] lower, double[] lowerInverse) {
    /** λ as a fraction of the mean diagonal of C: small enough to leave observed directions as they are. */
    public static final double RIDGE = 1e-3;

    /** The factor of C [n, n] (row-major, symmetric) plus {@link #RIDGE} times its mean diagonal. */
    public static Whitening of(double[] covariance, int n) {
        if (covariance.length != (long) n * n) {
            throw new IllegalArgumentException("covariance of " + covariance.length + " entries is not " + n + "x" + n);
        }
        double trace = 0;
        for (int i = 0; i < n; i++) {
            trace += covariance[i * n + i];
        }
        // an all-zero input (a dead layer) still needs a factor: any ridge will do
        double ridge = trace > 0 ? RIDGE * trace / n : 1;
        double[] l = new double[n * n];
        for (int j = 0; j < n; j++) {
            double d = covariance[j * n + j] + ridge;
            for (int k = 0; k < j; k++) {
                d -= l[j * n + k] * l[j * n + k];
            }
            if (!(d > 0)) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "covariance is not positive definite at column %d (pivot %.3g) even with the ridge", j, d));
            }
            double ljj = Math.sqrt(d);
            l[j * n + j] = ljj;
            for (int i = j + 1; i < n; i++) {
                double s = covariance[i * n + j];
                for (int k = 0; k < j; k++) {
                    s -= l[i * n + k] * l[j * n + k];
                }
                l[i * n + j] = s / ljj;
            }
        }
        return new Whitening(n, l, invertLower(l, n));
    }

    /** The inverse of a lower-triangular L (itself lower triangular), by forward substitution per column. */
    private static double[] invertLower(double[] l, int n) {
        double[] inv = new double[n * n];
        for (int j = 0; j < n; j++) {
            inv[j * n + j] = 1 / l[j * n + j];
            for (int i = j + 1; i < n; i++) {
                double s = 0;
                for (int k = j; k < i; k++) {
                    s -= l[i * n + k] * inv[k * n + j];
                }
                inv[i * n + j] = s / l[i * n + i];
            }
        }
        return inv;
    }
}
