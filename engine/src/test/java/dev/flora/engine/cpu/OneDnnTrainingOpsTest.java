package dev.flora.engine.cpu;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;

import dev.flora.engine.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fp32 training backend's ops that run on oneDNN (attention's strided batches and forward,
 * the softmax, GELU's and layer norm's backward) against the same ops on OpenBLAS and our own
 * loops (the backend the kernels' tests use): fp32 both, so they agree to float rounding, 1e-5
 * of the largest value. The mixed-precision backend runs the element-wise ones the same way.
 */
class OneDnnTrainingOpsTest {
    private static final CpuBackend ONE_DNN = new CpuBackend();
    private static final CpuBackend MIXED = CpuBackend.mixedPrecisionTrainingOnAnyCpu();
    private static final CpuBackend OPEN_BLAS = new CpuBackend(CpuKernels.selected());

    @AfterAll
    static void close() {
        ONE_DNN.close();
        MIXED.close();
    }

    /** The fp32 training backend, or the mixed-precision one, which runs these ops the same way in fp32. */
    private static CpuBackend training(String precision) {
        return "mixed".equals(precision) ? MIXED : ONE_DNN;
    }

    @ParameterizedTest(name = "transA {0} transB {1} m {2} n {3} k {4} alpha {5} beta {6} batch {7}")
    @CsvSource({"false, true, 20, 20, 16, 0.25, 0, 3", "true, false, 20, 16, 20, 1, 0, 4",
        "false, false, 20, 16, 20, 0.5, 1, 2", "true, true, 7, 5, 3, 2, 1, 1", "false, false, 1, 16, 9, 1, 0, 5",
        "true, false, 9, 16, 1, 1, 0, 3", "false, false, 6, 7, 8, 1, 0.5, 2"})
    void stridedBatchesMatchOpenBlas(boolean transA, boolean transB, int m, int n, int k, float alpha, float beta,
                                     int batch) {
        StridedBatch problem = new StridedBatch(transA, transB, m, n, k, alpha, beta, batch);
        float[][] abc = problem.operands(61);
        assertClose("strided batches", problem.run(ONE_DNN, abc[0], abc[1], abc[2]),
                toDouble(problem.run(OPEN_BLAS, abc[0], abc[1], abc[2])), 1e-5);
    }

    @ParameterizedTest(name = "batch {0} tokens {1} heads {2} headDim {3}")
    @CsvSource({"3, 11, 2, 8", "1, 17, 3, 4", "2, 9, 1, 6"})
    void attentionForwardMatchesOpenBlas(int batch, int tokens, int heads, int headDim) {
        int dim = heads * headDim;
        float[] qkv = gaussian(batch * tokens * 3 * dim, 64);
        Tensor probs = ONE_DNN.allocate(batch * heads * tokens * tokens);
        Tensor ctx = ONE_DNN.allocate(batch * tokens * dim);
        ONE_DNN.attentionForward(upload(ONE_DNN, qkv), probs, ctx, batch, tokens, heads, headDim, 0.3f);
        Tensor expProbs = OPEN_BLAS.allocate(batch * heads * tokens * tokens);
        Tensor expCtx = OPEN_BLAS.allocate(batch * tokens * dim);
        OPEN_BLAS.attentionForward(upload(OPEN_BLAS, qkv), expProbs, expCtx, batch, tokens, heads, headDim, 0.3f);
        assertClose("probs", ONE_DNN.download(probs), toDouble(OPEN_BLAS.download(expProbs)), 1e-5);
        assertClose("ctx", ONE_DNN.download(ctx), toDouble(OPEN_BLAS.download(expCtx)), 1e-5);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fp32", "mixed"})
    void softmaxForwardAndBackwardMatchOurLoops(String precision) {
        CpuBackend backend = training(precision);
        int rows = 1203;
        int cols = 37;
        float[] s = gaussian(rows * cols, 65);
        Tensor p = upload(backend, s);
        backend.softmaxForward(p, rows, cols);
        Tensor expected = upload(OPEN_BLAS, s);
        OPEN_BLAS.softmaxForward(expected, rows, cols);
        float[] probs = OPEN_BLAS.download(expected);
        assertClose("softmax", backend.download(p), toDouble(probs), 1e-5);

        float[] dp = gaussian(rows * cols, 66);
        Tensor actual = upload(backend, dp);
        backend.softmaxBackward(upload(backend, probs), actual, rows, cols);
        Tensor ours = upload(OPEN_BLAS, dp);
        OPEN_BLAS.softmaxBackward(upload(OPEN_BLAS, probs), ours, rows, cols);
        assertClose("softmax backward", backend.download(actual), toDouble(OPEN_BLAS.download(ours)), 1e-5);
    }

    /** dx, and γ's and β's gradients added to what they held, from the forward's mean and rstd. */
    @ParameterizedTest(name = "{0} rows {1} cols {2}")
    @CsvSource({"fp32, 197, 64", "fp32, 3, 384", "fp32, 1500, 24", "mixed, 197, 64"})
    void layerNormBackwardMatchesOurLoops(String precision, int rows, int cols) {
        CpuBackend backend = training(precision);
        float[] x = gaussian(rows * cols, 69);
        for (int i = 0; i < x.length; i++) {
            x[i] = x[i] * 3 + 1.5f; // rows off zero mean and unit variance
        }
        float[] gamma = gaussian(cols, 70);
        float[] beta = gaussian(cols, 71);
        Tensor mean = OPEN_BLAS.allocate(rows);
        Tensor rstd = OPEN_BLAS.allocate(rows);
        OPEN_BLAS.layerNormForward(upload(OPEN_BLAS, x), upload(OPEN_BLAS, gamma), upload(OPEN_BLAS, beta),
                OPEN_BLAS.allocate(rows * cols), mean, rstd, rows, cols, 1e-6f);
        float[] dy = gaussian(rows * cols, 72);
        float[] dGamma0 = gaussian(cols, 73);
        float[] dBeta0 = gaussian(cols, 74);
        Tensor dx = backend.allocate(rows * cols);
        Tensor dGamma = upload(backend, dGamma0);
        Tensor dBeta = upload(backend, dBeta0);
        backend.layerNormBackward(upload(backend, dy), upload(backend, x), upload(backend, gamma),
                upload(backend, OPEN_BLAS.download(mean)), upload(backend, OPEN_BLAS.download(rstd)), dx, dGamma, dBeta,
                rows, cols);
        Tensor expDx = OPEN_BLAS.allocate(rows * cols);
        Tensor expGamma = upload(OPEN_BLAS, dGamma0);
        Tensor expBeta = upload(OPEN_BLAS, dBeta0);
        OPEN_BLAS.layerNormBackward(upload(OPEN_BLAS, dy), upload(OPEN_BLAS, x), upload(OPEN_BLAS, gamma), mean, rstd,
                expDx, expGamma, expBeta, rows, cols);
        assertClose("dx", backend.download(dx), toDouble(OPEN_BLAS.download(expDx)), 1e-5);
        assertClose("dGamma", backend.download(dGamma), toDouble(OPEN_BLAS.download(expGamma)), 1e-5);
        assertClose("dBeta", backend.download(dBeta), toDouble(OPEN_BLAS.download(expBeta)), 1e-5);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fp32", "mixed"})
    void geluBackwardMatchesOurLoops(String precision) {
        CpuBackend backend = training(precision);
        int n = 70_001;
        float[] x = gaussian(n, 67);
        for (int i = 0; i < n; i += 97) {
            x[i] *= 6;
        }
        float[] dy = gaussian(n, 68);
        Tensor dx = backend.allocate(n);
        backend.geluBackward(upload(backend, x), upload(backend, dy), dx, n);
        Tensor expected = OPEN_BLAS.allocate(n);
        OPEN_BLAS.geluBackward(upload(OPEN_BLAS, x), upload(OPEN_BLAS, dy), expected, n);
        assertClose("GELU backward", backend.download(dx), toDouble(OPEN_BLAS.download(expected)), 1e-5);
    }
}
