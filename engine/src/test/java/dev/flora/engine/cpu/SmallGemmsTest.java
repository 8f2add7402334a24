package dev.flora.engine.cpu;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flora.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The weight-gradient GEMM in small-matrix pieces sums to the whole product, whatever kernels
 * run here: the pieces are forced on, with offsets and leading dimensions that are not the
 * matrices' widths, and C's earlier content scaled by beta once.
 */
class SmallGemmsTest {
    private final CpuBackend cpu = new CpuBackend();

    @ParameterizedTest(name = "m {0} n {1} k {2}")
    @CsvSource({"130, 120, 300", "64, 512, 100", "512, 64, 37", "9, 11, 5"})
    void transposedAInPiecesMatchesTheReference(int m, int n, int k) {
        int lda = m + 3;
        int ldb = n + 5;
        int ldc = n + 2;
        int aOff = 7;
        int bOff = 4;
        float[] a = gaussian(aOff + k * lda, 1);
        float[] b = gaussian(bOff + k * ldb, 2);
        float[] c0 = gaussian(m * ldc, 3);
        float alpha = 0.5f;
        float beta = -0.75f;
        double[] expect = new double[m * ldc];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < ldc; j++) {
                expect[i * ldc + j] = c0[i * ldc + j];
            }
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int l = 0; l < k; l++) {
                    s += (double) a[aOff + l * lda + i] * b[bOff + l * ldb + j];
                }
                expect[i * ldc + j] = alpha * s + beta * c0[i * ldc + j];
            }
        }
        Tensor c = upload(cpu, c0);
        SmallGemms.transAInPieces(m, n, k, alpha, upload(cpu, a), aOff, lda, upload(cpu, b), bOff, ldb, beta, c, 0,
                ldc, true);
        assertClose("Aᵀ·B in pieces", cpu.download(c), expect, 1e-5);
    }

    @Test
    void piecesStayUnderTheLimitAndAboveTheFloor() {
        assertEquals(61, SmallGemms.piece(800, 128 * 128, true));
        assertEquals(800, SmallGemms.piece(800, 128 * 128, false));
        assertEquals(800, SmallGemms.piece(800, 512 * 128, true), "15-row pieces are slower than the whole");
        assertEquals(40, SmallGemms.piece(40, 128 * 128, true), "never more than the extent");
    }
}
