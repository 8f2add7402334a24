package dev.flora.engine.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.tensor.Tensor;
import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Truncated SVD in FLORA's convention: the Frobenius error of W − U[:, :r]·VT[:r] equals
 * sqrt(Σ_{i>r} σ_i²) (Eckart–Young), singular values agree with Apache Commons Math, and full
 * rank reproduces W.
 */
class LowRankFactorsTest {
    private final Backend backend = new CpuBackend();

    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"48,32", "32,96", "64,64"})
    void truncationErrorIsTheTailOfTheSpectrum(int out, int in) {
        Random rng = new Random(out * 31L + in);
        float[] w = new float[out * in];
        double[][] rows = new double[out][in];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                // a decaying spectrum, like trained weights
                w[i * in + j] = (float) (rng.nextGaussian() / (1 + 0.1 * j));
                rows[i][j] = w[i * in + j];
            }
        }
        Tensor wt = backend.allocate(out * in);
        backend.upload(w, 0, wt);
        LowRankFactors f = LowRankFactors.of(backend, wt, out, in);
        double[] expected = new SingularValueDecomposition(new Array2DRowRealMatrix(rows)).getSingularValues();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], f.singularValues()[i], 1e-5 * expected[0], "singular value " + i);
        }
        int k = f.fullRank();
        for (int r : new int[] {1, k / 8, k / 4, k / 2, k - 1, k}) {
            if (r < 1) {
                continue;
            }
            double err = frobeniusError(w, f.uColumns(r), f.vtRows(r), out, in, r);
            double tail = 0;
            for (int i = r; i < k; i++) {
                tail += (double) f.singularValues()[i] * f.singularValues()[i];
            }
            tail = Math.sqrt(tail);
            double norm = Math.sqrt(sumSq(w));
            if (r == k) {
                assertEquals(0, err, 1e-5 * norm, "full rank reproduces W");
            } else {
                assertEquals(tail, err, 1e-4 * tail, "rank " + r + " error vs tail of the spectrum");
            }
        }
    }

    private static double sumSq(float[] w) {
        double s = 0;
        for (float v : w) {
            s += (double) v * v;
        }
        return s;
    }

    private static double frobeniusError(float[] w, float[] u, float[] vt, int out, int in, int r) {
        double s = 0;
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                double acc = 0;
                for (int l = 0; l < r; l++) {
                    acc += (double) u[i * r + l] * vt[l * in + j];
                }
                double d = w[i * in + j] - acc;
                s += d * d;
            }
        }
        return Math.sqrt(s);
    }
}
