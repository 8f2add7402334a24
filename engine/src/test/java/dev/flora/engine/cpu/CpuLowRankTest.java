package dev.flora.engine.cpu;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CPU backend's chunked low-rank forward and backward against a double-precision reference,
 * at row counts of one chunk, of a few, and of more chunks than parts (so that a part sums
 * several chunks). Gradients must accumulate into what is already there, and the slices of U
 * and VT beyond the active rank must stay untouched.
 */
class CpuLowRankTest {
    private final Backend cpu = new CpuBackend();

    /**
     * With {@code pieces} the GEMMs go in the row pieces meant for OpenBLAS's small-matrix path
     * whatever kernels run here (the shapes are chosen so that every GEMM splits); without, the
     * backend's own choice for this machine's kernels.
     */
    @ParameterizedTest(name = "rows {0} in {1} out {2} R {3} r {4} pieces {5}")
    @CsvSource({"23, 37, 29, 21, 13, false", "300, 16, 40, 16, 16, false", "2100, 37, 29, 21, 13, false",
        "4111, 24, 48, 24, 5, false", "300, 300, 520, 48, 40, true", "700, 520, 300, 40, 33, true"})
    void chunkedPassesMatchTheReference(int rows, int in, int out, int maxRank, int r, boolean pieces) {
        float[] x = gaussian(rows * in, 1);
        float[] vt = gaussian(maxRank * in, 2);
        float[] u = gaussian(out * maxRank, 3);
        float[] bias = gaussian(out, 4);
        float[] dy = gaussian(rows * out, 5);
        float[] dVt0 = gaussian(maxRank * in, 6);
        float[] dU0 = gaussian(out * maxRank, 7);
        float[] dBias0 = gaussian(out, 8);

        double[] h = new double[rows * r];
        double[] y = new double[rows * out];
        double[] dh = new double[rows * r];
        double[] dx = new double[rows * in];
        double[] dVt = new double[maxRank * in];
        double[] dU = new double[out * maxRank];
        double[] dBias = new double[out];
        for (int i = 0; i < dVt.length; i++) {
            dVt[i] = dVt0[i];
        }
        for (int i = 0; i < dU.length; i++) {
            dU[i] = dU0[i];
        }
        for (int j = 0; j < out; j++) {
            dBias[j] = dBias0[j];
        }
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < r; k++) {
                double s = 0;
                for (int c = 0; c < in; c++) {
                    s += (double) x[i * in + c] * vt[k * in + c];
                }
                h[i * r + k] = s;
            }
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int k = 0; k < r; k++) {
                    s += h[i * r + k] * u[o * maxRank + k];
                }
                y[i * out + o] = s;
                dBias[o] += dy[i * out + o];
            }
            for (int k = 0; k < r; k++) {
                double s = 0;
                for (int o = 0; o < out; o++) {
                    s += (double) dy[i * out + o] * u[o * maxRank + k];
                    dU[o * maxRank + k] += (double) dy[i * out + o] * h[i * r + k];
                }
                dh[i * r + k] = s;
            }
            for (int c = 0; c < in; c++) {
                double s = 0;
                for (int k = 0; k < r; k++) {
                    s += dh[i * r + k] * vt[k * in + c];
                    dVt[k * in + c] += dh[i * r + k] * x[i * in + c];
                }
                dx[i * in + c] = s;
            }
        }

        Tensor xt = upload(cpu, x);
        Tensor vtt = upload(cpu, vt);
        Tensor ut = upload(cpu, u);
        Tensor ht = cpu.allocate(rows * r);
        Tensor yt = cpu.allocate(rows * out);
        forward(pieces, xt, vtt, ut, upload(cpu, bias), null, ht, yt, rows, in, out, r, maxRank);
        assertClose("h", cpu.download(ht), h, 1e-5);
        assertClose("y", cpu.download(yt), y, 1e-5);
        Tensor yNoH = cpu.allocate(rows * out);
        forward(pieces, xt, vtt, ut, upload(cpu, bias), null, null, yNoH, rows, in, out, r, maxRank);
        assertClose("y without a kept intermediate", cpu.download(yNoH), y, 1e-5);
        float[] residual = gaussian(rows * out, 9);
        double[] yPlusResidual = new double[rows * out];
        for (int i = 0; i < yPlusResidual.length; i++) {
            yPlusResidual[i] = y[i] + residual[i];
        }
        Tensor yRes = cpu.allocate(rows * out);
        forward(pieces, xt, vtt, ut, upload(cpu, bias), upload(cpu, residual), null, yRes, rows, in, out, r,
                maxRank);
        assertClose("y plus a residual", cpu.download(yRes), yPlusResidual, 1e-5);

        Tensor dht = cpu.allocate(rows * r);
        Tensor dxt = cpu.allocate(rows * in);
        Tensor dVtt = upload(cpu, dVt0);
        Tensor dUt = upload(cpu, dU0);
        Tensor dBiast = upload(cpu, dBias0);
        if (pieces) {
            CpuLowRank.backward(upload(cpu, dy), xt, ht, vtt, ut, dht, dxt, dVtt, dUt, dBiast, rows, in, out, r,
                    maxRank, true);
        } else {
            cpu.lowRankBackward(upload(cpu, dy), xt, ht, vtt, ut, dht, dxt, dVtt, dUt, dBiast, rows, in, out, r,
                    maxRank);
        }
        assertClose("dh", cpu.download(dht), dh, 1e-5);
        assertClose("dx", cpu.download(dxt), dx, 1e-5);
        assertClose("dVT", cpu.download(dVtt), dVt, 1e-5);
        assertClose("dU", cpu.download(dUt), dU, 1e-5);
        assertClose("dBias", cpu.download(dBiast), dBias, 1e-5);
        float[] dVtOut = cpu.download(dVtt);
        float[] dUOut = cpu.download(dUt);
        for (int k = r; k < maxRank; k++) {
            for (int c = 0; c < in; c++) {
                assertEquals(dVt0[k * in + c], dVtOut[k * in + c], "VT gradient row " + k + " beyond the rank");
            }
            for (int o = 0; o < out; o++) {
                assertEquals(dU0[o * maxRank + k], dUOut[o * maxRank + k], "U gradient column " + k + " beyond rank");
            }
        }
    }

    private void forward(boolean pieces, Tensor x, Tensor vt, Tensor u, Tensor bias, Tensor residual, Tensor h,
                         Tensor y, int rows, int in, int out, int r, int maxRank) {
        if (pieces) {
            CpuLowRank.forward(x, vt, u, bias, residual, h, y, rows, in, out, r, maxRank, true);
        } else {
            cpu.lowRankForward(x, vt, u, bias, residual, h, y, rows, in, out, r, maxRank);
        }
    }

    /**
     * The forward's first GEMM goes in pieces only where each piece fits OpenBLAS's small path:
     * above that, pieces are packed one by one and ran twice as slow as the whole product.
     */
    @ParameterizedTest(name = "in {0}")
    @CsvSource({"512", "256", "128"})
    void firstGemmPiecesFitTheSmallPathOrTheProductStaysWhole(int in) {
        int rows = 800;
        for (int r = 1; r <= 128; r++) {
            int piece = CpuLowRank.firstGemmPieceRows(rows, in, r, true);
            String what = "r " + r + ": pieces of " + piece + " rows";
            if (piece < rows) {
                assertTrue((long) piece * r <= SmallGemms.MAX_TRANSPOSED_C, what);
                assertTrue(piece >= SmallGemms.MIN_PIECE, what);
            }
            assertEquals(rows, CpuLowRank.firstGemmPieceRows(rows, in, r, false), "r " + r + ", no small path");
        }
        assertEquals(rows, CpuLowRank.firstGemmPieceRows(rows, 512, 96, true), "r 96, the rank that was slow in pieces");
    }
}
