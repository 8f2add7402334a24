package dev.flora.engine.cpu;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;

import dev.flora.engine.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Layer normalization on the inference backends (oneDNN; rows split in two halves outside a lane
 * above a few images' rows) against the backend that trains (the JVM's row loop), with rows offset
 * from zero and scaled as a residual stream's are: one row, a few, DeiT's 197 × 384, and enough
 * rows to be split.
 */
class OneDnnLayerNormTest {
    @ParameterizedTest(name = "rows {0} cols {1} eps {2}")
    @CsvSource({"1, 13, 1e-6", "5, 48, 1e-5", "197, 384, 1e-6", "37, 192, 1e-6", "1100, 64, 1e-6"})
    void matchesTheTrainingBackend(int rows, int cols, float eps) {
        float[] x = gaussian(rows * cols, 31);
        for (int i = 0; i < x.length; i++) {
            x[i] = 3 * x[i] + 5 + (i / cols) % 7; // a mean and a spread per row
        }
        float[] gamma = gaussian(cols, 32);
        float[] beta = gaussian(cols, 33);
        try (CpuBackend training = new CpuBackend(); CpuBackend fp32 = CpuBackend.fp32Inference();
             CpuBackend bf16 = CpuBackend.bf16OnAnyCpu()) {
            float[] expected = layerNorm(training, x, gamma, beta, rows, cols, eps);
            assertClose("fp32 inference", layerNorm(fp32, x, gamma, beta, rows, cols, eps), toDouble(expected), 1e-5);
            assertClose("bf16 inference", layerNorm(bf16, x, gamma, beta, rows, cols, eps), toDouble(expected), 1e-5);
        }
    }

    private static float[] layerNorm(CpuBackend b, float[] x, float[] gamma, float[] beta, int rows, int cols,
                                     float eps) {
        Tensor y = b.allocate(rows * cols);
        b.layerNormForward(upload(b, x), upload(b, gamma), upload(b, beta), y, b.allocate(rows), b.allocate(rows),
                rows, cols, eps);
        return b.download(y);
    }
}
