package dev.flora.engine.cpu;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;

import dev.flora.engine.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Column sums through gemv: offsets into both tensors, beta applied once (also across the
 * pieces of a block taller than the ones vector), and an empty block that clears or keeps.
 */
class ColumnSumsTest {
    private final CpuBackend cpu = new CpuBackend();

    @ParameterizedTest(name = "rows {0} cols {1} beta {2}")
    @CsvSource({"5, 3, 0", "400, 384, 1", "9000, 7, 1", "9000, 7, 0", "0, 5, 0", "0, 5, 1", "0, 5, -0.5", "1, 1, 1", "300, 9, 0.25"})
    void sumsMatchTheReference(int rows, int cols, float beta) {
        int aOff = 11;
        int outOff = 3;
        float[] a = gaussian(aOff + rows * cols, 1);
        float[] out0 = gaussian(outOff + cols + 2, 2);
        double[] expect = new double[out0.length];
        for (int i = 0; i < out0.length; i++) {
            expect[i] = out0[i];
        }
        for (int j = 0; j < cols; j++) {
            double s = 0;
            for (int r = 0; r < rows; r++) {
                s += a[aOff + r * cols + j];
            }
            expect[outOff + j] = beta * out0[outOff + j] + s;
        }
        Tensor out = upload(cpu, out0);
        ColumnSums.sum(upload(cpu, a), aOff, rows, cols, beta, out, outOff);
        assertClose("column sums", cpu.download(out), expect, 1e-4);
    }
}
