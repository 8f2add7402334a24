package dev.flora.engine.cpu;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.relativeError;
import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.Rounding.rounded;
import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.flora.engine.backend.Precision;
import dev.flora.engine.nn.LowRankLinear;
import dev.flora.engine.nn.ModelTestSupport;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.optim.AdamW;
import dev.flora.engine.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The mixed-precision training backend's products ({@link Bf16Gemm}: the linear layers', and
 * attention's strided batches) against fp32 products of
 * the operands rounded to bf16 as the hardware rounds them: only the order of the fp32
 * accumulation differs, so they agree within 1e-5 of the largest output. Against unrounded fp32
 * they must differ by about bf16's rounding (which shows the products do run in bf16), and the
 * weights must be read afresh on every call (training changes them). It runs on every CPU:
 * where AVX512-BF16 is missing oneDNN converts in software.
 */
class MixedPrecisionTrainingTest {
    private static final CpuBackend FP32 = new CpuBackend();
    private static final CpuBackend MIXED = CpuBackend.mixedPrecisionTrainingOnAnyCpu();
    /** OpenBLAS and our own loops throughout, for the ops that both training backends run on oneDNN. */
    private static final CpuBackend OURS = new CpuBackend(CpuKernels.selected());

    @AfterAll
    static void close() {
        MIXED.close();
    }

    private static float[] bf16(float[] v) {
        return rounded(v, Precision.BF16);
    }

    @ParameterizedTest(name = "transA {0} transB {1} m {2} n {3} k {4} beta {5}")
    @CsvSource({"false, false, 37, 29, 48, 0", "true, false, 64, 96, 197, 1", "false, true, 197, 96, 64, 1",
        "true, true, 5, 130, 33, 0", "false, false, 1, 8, 16, 1"})
    void gemmMatchesRoundedFp32(boolean transA, boolean transB, int m, int n, int k, float beta) {
        int lda = (transA ? m : k) + 3;
        int ldb = (transB ? k : n) + 1;
        int ldc = n + 2;
        float[] a = gaussian((transA ? k : m) * lda, 1);
        float[] b = gaussian((transB ? n : k) * ldb, 2);
        float[] c = gaussian(m * ldc, 3);
        Tensor cm = upload(MIXED, c);
        try (Bf16Gemm gemm = new Bf16Gemm()) {
            gemm.multiply(transA, transB, m, n, k, upload(MIXED, a), 0, lda, upload(MIXED, b), 0, ldb, beta == 1f, cm,
                    0, ldc);
        }

        Tensor expected = upload(FP32, c);
        FP32.gemm(transA, transB, m, n, k, 1f, upload(FP32, bf16(a)), lda, upload(FP32, bf16(b)), ldb, beta,
                expected, ldc);
        assertClose("bf16 gemm", MIXED.download(cm), toDouble(FP32.download(expected)), 1e-5);

        Tensor exact = upload(FP32, c);
        FP32.gemm(transA, transB, m, n, k, 1f, upload(FP32, a), lda, upload(FP32, b), ldb, beta, exact, ldc);
        double rel = relativeError(MIXED.download(cm), toDouble(FP32.download(exact)));
        assertTrue(rel > 1e-4 && rel < 2e-2, "bf16 products differ from fp32 by bf16's rounding, got " + rel);
    }

    /**
     * Attention's strided batches (a head's images, an image's heads) in bf16: every problem of
     * the batch against fp32 on rounded operands, the gaps between the problems' C untouched,
     * and alpha applied before C's old values are added.
     */
    @ParameterizedTest(name = "transA {0} transB {1} m {2} n {3} k {4} alpha {5} beta {6} batch {7}")
    @CsvSource({"false, true, 20, 20, 16, 0.25, 0, 3", "true, false, 20, 16, 20, 1, 0, 4",
        "false, false, 20, 16, 20, 0.5, 1, 2", "false, false, 2, 16, 9, 1, 0, 5", "true, true, 7, 5, 3, 2, 1, 1"})
    void stridedBatchesMatchRoundedFp32(boolean transA, boolean transB, int m, int n, int k, float alpha, float beta,
                                        int batch) {
        StridedBatch problem = new StridedBatch(transA, transB, m, n, k, alpha, beta, batch);
        float[][] abc = problem.operands(41);
        float[] actual = problem.run(MIXED, abc[0], abc[1], abc[2]);
        float[] expected = problem.run(FP32, bf16(abc[0]), bf16(abc[1]), abc[2]);
        assertClose("bf16 strided batches", actual, toDouble(expected), 1e-5);
        double rel = relativeError(actual, toDouble(problem.run(FP32, abc[0], abc[1], abc[2])));
        assertTrue(rel > 1e-5 && rel < 2e-2, "bf16 products differ from fp32 by bf16's rounding, got " + rel);
    }

    /**
     * A batch whose problems have a dimension of 1 (the class-token tail's) stays fp32 on
     * OpenBLAS, to the bit: oneDNN's batched matmul got some of them wrong (see OneDnnMatmuls).
     */
    @ParameterizedTest(name = "m {0} n {1} k {2}")
    @CsvSource({"1, 12, 9", "9, 12, 1", "9, 1, 12"})
    void stridedBatchesWithADimensionOfOneStayFp32(int m, int n, int k) {
        int batch = 3;
        long strideA = (long) m * k + 2;
        long strideB = (long) k * n + 3;
        long strideC = (long) m * n + 1;
        float[] a = gaussian((int) (batch * strideA), 55);
        float[] b = gaussian((int) (batch * strideB), 56);
        Tensor c = MIXED.allocate((int) (batch * strideC));
        MIXED.gemmStridedBatched(false, false, m, n, k, 1f, upload(MIXED, a), k, strideA, upload(MIXED, b), n, strideB,
                0f, c, n, strideC, batch);
        Tensor expected = OURS.allocate((int) (batch * strideC));
        OURS.gemmStridedBatched(false, false, m, n, k, 1f, upload(OURS, a), k, strideA, upload(OURS, b), n, strideB, 0f,
                expected, n, strideC, batch);
        assertArrayEquals(OURS.download(expected), MIXED.download(c));
    }

    /**
     * Attention's forward in mixed precision: q·kᵀ on bf16 q and k, the softmax and probs in
     * fp32, p·v on bf16 probabilities and v, as PyTorch's bf16 autocast rounds them.
     */
    @Test
    void attentionForwardRunsItsProductsInBf16() {
        int batch = 3;
        int tokens = 11;
        int heads = 2;
        int headDim = 8;
        int dim = heads * headDim;
        float scale = 0.35f;
        float[] qkv = gaussian(batch * tokens * 3 * dim, 44);
        Tensor probs = MIXED.allocate(batch * heads * tokens * tokens);
        Tensor ctx = MIXED.allocate(batch * tokens * dim);
        MIXED.attentionForward(upload(MIXED, qkv), probs, ctx, batch, tokens, heads, headDim, scale);

        // the same steps in fp32 on operands rounded where bf16 rounds them
        Tensor rq = upload(FP32, bf16(qkv));
        Tensor expProbs = FP32.allocate(batch * heads * tokens * tokens);
        Tensor expCtx = FP32.allocate(batch * tokens * dim);
        FP32.attentionForward(rq, expProbs, FP32.allocate(batch * tokens * dim), batch, tokens, heads, headDim, scale);
        float[] p = FP32.download(expProbs);
        assertClose("probs", MIXED.download(probs), toDouble(p), 1e-5);
        Tensor rp = upload(FP32, bf16(p));
        int ld = 3 * dim;
        for (int b = 0; b < batch; b++) {
            FP32.gemmStridedBatched(false, false, tokens, headDim, tokens, 1f, rp.from((long) b * heads * tokens * tokens),
                    tokens, (long) tokens * tokens, rq.from((long) b * tokens * ld + 2L * dim), ld, headDim, 0f,
                    expCtx.from((long) b * tokens * dim), dim, headDim, heads);
        }
        assertClose("ctx", MIXED.download(ctx), toDouble(FP32.download(expCtx)), 1e-5);

        Tensor exactCtx = FP32.allocate(batch * tokens * dim);
        FP32.attentionForward(upload(FP32, qkv), FP32.allocate(batch * heads * tokens * tokens), exactCtx, batch,
                tokens, heads, headDim, scale);
        double rel = relativeError(MIXED.download(ctx), toDouble(FP32.download(exactCtx)));
        assertTrue(rel > 1e-4 && rel < 2e-2, "bf16 attention differs from fp32 by bf16's rounding, got " + rel);
    }

    @Test
    void linearForwardAddsBiasAndResidualInFp32() {
        int rows = 50;
        int in = 64;
        int out = 40;
        float[] x = gaussian(rows * in, 4);
        float[] w = gaussian(out * in, 5);
        float[] b = gaussian(out, 6);
        float[] res = gaussian(rows * out, 7);
        Tensor y = MIXED.allocate(rows * out);
        MIXED.linearForward(upload(MIXED, x), upload(MIXED, w), upload(MIXED, b), upload(MIXED, res), y, rows, in,
                out);
        Tensor expected = FP32.allocate(rows * out);
        FP32.linearForward(upload(FP32, bf16(x)), upload(FP32, bf16(w)), upload(FP32, b), upload(FP32, res),
                expected, rows, in, out);
        assertClose("bf16 linear", MIXED.download(y), toDouble(FP32.download(expected)), 1e-5);
    }

    @Test
    void linearBackwardMatchesRoundedFp32() {
        int rows = 80;
        int in = 48;
        int out = 72;
        float[] dy = gaussian(rows * out, 21);
        float[] x = gaussian(rows * in, 22);
        float[] w = gaussian(out * in, 23);
        float[] dW0 = gaussian(out * in, 24);
        float[] dB0 = gaussian(out, 25);
        Tensor dW = upload(MIXED, dW0);
        Tensor dB = upload(MIXED, dB0);
        Tensor dx = MIXED.allocate(rows * in);
        MIXED.linearBackward(upload(MIXED, dy), upload(MIXED, x), upload(MIXED, w), dW, dB, dx, rows, in, out);

        Tensor dWRef = upload(FP32, dW0);
        Tensor dBRef = upload(FP32, dB0);
        Tensor dxRef = FP32.allocate(rows * in);
        FP32.linearBackward(upload(FP32, bf16(dy)), upload(FP32, bf16(x)), upload(FP32, bf16(w)), dWRef, dBRef, dxRef,
                rows, in, out);
        assertClose("dW", MIXED.download(dW), toDouble(FP32.download(dWRef)), 1e-5);
        assertClose("dx", MIXED.download(dx), toDouble(FP32.download(dxRef)), 1e-5);
        // the bias gradient sums dy itself, in fp32
        Tensor dBExact = upload(FP32, dB0);
        FP32.accumulateBiasGrad(upload(FP32, dy), dBExact, rows, out);
        assertClose("dBias", MIXED.download(dB), toDouble(FP32.download(dBExact)), 1e-6);
    }

    /** Calibration and export compute weights with {@code gemm}: it stays fp32, to the bit. */
    @Test
    void generalGemmStaysFp32() {
        int m = 30;
        int n = 20;
        int k = 40;
        float[] a = gaussian(m * k, 26);
        float[] b = gaussian(k * n, 27);
        Tensor c = MIXED.allocate(m * n);
        MIXED.gemm(false, false, m, n, k, 1f, upload(MIXED, a), k, upload(MIXED, b), n, 0f, c, n);
        Tensor expected = FP32.allocate(m * n);
        FP32.gemm(false, false, m, n, k, 1f, upload(FP32, a), k, upload(FP32, b), n, 0f, expected, n);
        assertArrayEquals(FP32.download(expected), MIXED.download(c));
    }

    @Test
    void weightsChangedBetweenCallsAreReadAfresh() {
        int rows = 16;
        int in = 32;
        int out = 24;
        Tensor x = upload(MIXED, gaussian(rows * in, 8));
        Tensor w = upload(MIXED, gaussian(out * in, 9));
        Tensor b = upload(MIXED, new float[out]);
        Tensor y = MIXED.allocate(rows * out);
        MIXED.linearForward(x, w, b, null, y, rows, in, out);
        float[] first = MIXED.download(y);
        MIXED.scale(w, 2f, (long) out * in);
        MIXED.linearForward(x, w, b, null, y, rows, in, out);
        float[] second = MIXED.download(y);
        for (int i = 0; i < first.length; i++) {
            assertEquals(2 * first[i], second[i], 1e-5 * Math.abs(first[i]) + 1e-6, "output " + i);
        }
    }

    /** The factored layer's second product adds the bias and the residual as it is written; at rank 0 they are all of y. */
    @ParameterizedTest(name = "r {0}")
    @CsvSource({"0", "5"})
    void lowRankForwardAddsBiasAndResidualInFp32(int r) {
        int rows = 31;
        int in = 24;
        int out = 20;
        int maxRank = 8;
        float[] x = gaussian(rows * in, 50);
        float[] vt = gaussian(maxRank * in, 51);
        float[] u = gaussian(out * maxRank, 52);
        float[] b = gaussian(out, 53);
        float[] res = gaussian(rows * out, 54);
        Tensor y = MIXED.allocate(rows * out);
        MIXED.lowRankForward(upload(MIXED, x), upload(MIXED, vt), upload(MIXED, u), upload(MIXED, b),
                upload(MIXED, res), null, y, rows, in, out, r, maxRank);
        Tensor h = FP32.allocate(Math.max(1, rows * r));
        FP32.gemm(false, true, rows, r, in, 1f, upload(FP32, bf16(x)), in, upload(FP32, bf16(vt)), in, 0f, h, r);
        Tensor expected = FP32.allocate(rows * out);
        FP32.linearForward(upload(FP32, bf16(FP32.download(h))), upload(FP32, bf16(columns(u, out, maxRank, r))),
                upload(FP32, b), upload(FP32, res), expected, rows, r, out);
        assertClose("low-rank y", MIXED.download(y), toDouble(FP32.download(expected)), 1e-5);
    }

    @ParameterizedTest(name = "rows {0} in {1} out {2} R {3} r {4}")
    @CsvSource({"23, 37, 29, 21, 13", "100, 128, 96, 64, 48"})
    void lowRankForwardAndBackwardMatchRoundedFp32(int rows, int in, int out, int maxRank, int r) {
        float[] x = gaussian(rows * in, 10);
        float[] vt = gaussian(maxRank * in, 11);
        float[] u = gaussian(out * maxRank, 12);
        float[] b = gaussian(out, 13);
        float[] dy = gaussian(rows * out, 14);
        float[] dVt0 = gaussian(maxRank * in, 15);
        float[] dU0 = gaussian(out * maxRank, 16);
        float[] dB0 = gaussian(out, 17);

        Tensor h = MIXED.allocate(rows * r);
        Tensor y = MIXED.allocate(rows * out);
        Tensor mx = upload(MIXED, x);
        Tensor mvt = upload(MIXED, vt);
        Tensor mu = upload(MIXED, u);
        MIXED.lowRankForward(mx, mvt, mu, upload(MIXED, b), null, h, y, rows, in, out, r, maxRank);
        Tensor dh = MIXED.allocate(rows * r);
        Tensor dx = MIXED.allocate(rows * in);
        Tensor dVt = upload(MIXED, dVt0);
        Tensor dU = upload(MIXED, dU0);
        Tensor dB = upload(MIXED, dB0);
        MIXED.lowRankBackward(upload(MIXED, dy), mx, h, mvt, mu, dh, dx, dVt, dU, dB, rows, in, out, r, maxRank);

        // the reference: each product in fp32 on bf16-rounded operands, h and dh rounded where read
        Tensor hRef = FP32.allocate(rows * r);
        FP32.gemm(false, true, rows, r, in, 1f, upload(FP32, bf16(x)), in, upload(FP32, bf16(vt)), in, 0f, hRef, r);
        assertClose("h", MIXED.download(h), toDouble(FP32.download(hRef)), 1e-5);
        float[] hb = bf16(FP32.download(hRef));
        Tensor yRef = FP32.allocate(rows * out);
        FP32.linearForward(upload(FP32, hb), upload(FP32, bf16(columns(u, out, maxRank, r))), upload(FP32, b), null,
                yRef, rows, r, out);
        assertClose("y", MIXED.download(y), toDouble(FP32.download(yRef)), 1e-5);

        Tensor dyR = upload(FP32, bf16(dy));
        Tensor dhRef = FP32.allocate(rows * r);
        FP32.gemm(false, false, rows, r, out, 1f, dyR, out, upload(FP32, bf16(u)), maxRank, 0f, dhRef, r);
        assertClose("dh", MIXED.download(dh), toDouble(FP32.download(dhRef)), 1e-5);
        Tensor dhR = upload(FP32, bf16(FP32.download(dhRef)));
        Tensor dxRef = FP32.allocate(rows * in);
        FP32.gemm(false, false, rows, in, r, 1f, dhR, r, upload(FP32, bf16(vt)), in, 0f, dxRef, in);
        assertClose("dx", MIXED.download(dx), toDouble(FP32.download(dxRef)), 1e-5);
        Tensor dURef = upload(FP32, dU0);
        FP32.gemm(true, false, out, r, rows, 1f, dyR, out, upload(FP32, hb), r, 1f, dURef, maxRank);
        assertClose("dU", MIXED.download(dU), toDouble(FP32.download(dURef)), 1e-5);
        Tensor dVtRef = upload(FP32, dVt0);
        FP32.gemm(true, false, r, in, rows, 1f, dhR, r, upload(FP32, bf16(x)), in, 1f, dVtRef, in);
        assertClose("dVt", MIXED.download(dVt), toDouble(FP32.download(dVtRef)), 1e-5);
        Tensor dBRef = upload(FP32, dB0);
        FP32.accumulateBiasGrad(upload(FP32, dy), dBRef, rows, out);
        assertClose("dBias (fp32)", MIXED.download(dB), toDouble(FP32.download(dBRef)), 1e-6);
    }

    @Test
    void theBackendSaysWhatItIs() {
        assertEquals(Precision.BF16, MIXED.precision());
        assertFalse(MIXED.inferenceOnly());
        assertEquals("cpu/bf16-training", MIXED.name());
        try (CpuBackend inference = CpuBackend.bf16OnAnyCpu()) {
            assertTrue(inference.inferenceOnly());
        }
    }

    /** Where this CPU has AVX512-BF16, oneDNN runs the products with its own kernels, not its slow reference code. */
    @Test
    void productsRunOnOneDnnsFastKernels() {
        assumeTrue(CpuBackend.bf16UnsupportedReason() == null, "this CPU lacks AVX512-BF16");
        try (Bf16Gemm gemm = new Bf16Gemm()) {
            // y = x·Wᵀ, dW = dyᵀ·x, dx = dy·W at a vit-fmnist lane's shapes
            int[][] shapes = {{800, 384, 128, 0, 1}, {384, 128, 800, 1, 0}, {800, 128, 384, 0, 0}};
            for (int[] s : shapes) {
                String impl = gemm.implementation(s[0], s[1], s[2], s[3] == 1, s[4] == 1, true);
                assertFalse(impl.contains("ref"), java.util.Arrays.toString(s) + " runs " + impl);
            }
        }
    }

    /**
     * Ten AdamW steps of a tiny ViT with dense and factorized layers from the same start: the
     * first step's gradients are within 2 % of fp32's, yet not equal to them; the losses follow
     * fp32's within 1 % at every step; and what training changed in the weights is within 15 %
     * of fp32's change (Adam divides each gradient by its own running size, which magnifies
     * bf16's relative error for the gradients near zero).
     */
    @Test
    void trainingStepsFollowFp32WithinBf16Tolerance() {
        double[][] fp32 = trainTinyVit(FP32);
        double[][] mixed = trainTinyVit(MIXED);
        for (int step = 0; step < fp32[0].length; step++) {
            assertEquals(fp32[0][step], mixed[0][step], 1e-2 * fp32[0][step], "loss at step " + step);
        }
        float[] mixedChange = new float[mixed[1].length];
        double[] fp32Change = new double[mixed[1].length];
        for (int i = 0; i < mixedChange.length; i++) {
            mixedChange[i] = (float) (mixed[1][i] - mixed[2][i]);
            fp32Change[i] = fp32[1][i] - fp32[2][i];
        }
        double change = relativeError(mixedChange, fp32Change);
        assertTrue(change < 0.15, "the weights' change in training differs from fp32's by " + change);
        float[] firstGradients = new float[mixed[3].length];
        for (int i = 0; i < firstGradients.length; i++) {
            firstGradients[i] = (float) mixed[3][i];
        }
        double gradients = relativeError(firstGradients, fp32[3]);
        assertTrue(gradients > 1e-4 && gradients < 2e-2, "first gradients differ from fp32's by " + gradients);
    }

    /** Losses per step, the weights after the last step and before the first, the first step's gradients. */
    private static double[][] trainTinyVit(CpuBackend backend) {
        java.util.Map<String, Integer> ranks = java.util.Map.of("blocks.0.attn.qkv", 8, "blocks.1.mlp.fc1", 8);
        VisionTransformer m = VisionTransformer.withLowRank(backend, ModelTestSupport.tinyConfig(), ranks);
        ModelTestSupport.randomize(m, new java.util.Random(3), 0.4);
        ((LowRankLinear) m.linears().get("blocks.0.attn.qkv")).setRank(5);
        int batch = 8;
        int classes = m.config().numClasses();
        Tensor x = upload(backend, gaussian(batch * m.config().imageSize(), 20));
        int[] labels = new int[batch];
        java.util.Arrays.setAll(labels, i -> i % classes);
        Tensor dl = backend.allocate(batch * classes);
        AdamW opt = new AdamW(m.arena(), 0.9f, 0.999f, 1e-3f, 0.05f);
        double[] start = toDouble(backend.download(m.arena().values()));
        double[] losses = new double[10];
        double[] firstGradients = null;
        for (int step = 0; step < losses.length; step++) {
            m.arena().zeroGrads();
            Tensor logits = m.forward(x, batch);
            losses[step] = backend.crossEntropy(logits, labels, dl, batch, classes, 0.1f, 1f / batch, false).lossSum();
            m.backward(dl);
            if (step == 0) {
                firstGradients = toDouble(backend.download(m.arena().grads()));
            }
            opt.step(1e-3f, m.trainableRegions());
        }
        return new double[][] {losses, toDouble(backend.download(m.arena().values())), start, firstGradients};
    }

    /** The first r columns of a [rows, ld] matrix. */
    private static float[] columns(float[] m, int rows, int ld, int r) {
        float[] out = new float[rows * r];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(m, i * ld, out, i * r, r);
        }
        return out;
    }
}
