package dev.flora.engine.cpu;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.Rounding.rounded;
import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.backend.LayerNormWeights;
import dev.flora.engine.backend.LinearProduct;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.cuda.Devices;
import dev.flora.engine.tensor.Tensor;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CPU's linear layers through oneDNN. In bf16 against fp32 GEMMs on operands rounded to bf16
 * as the hardware rounds them: the only difference left is the order of fp32 accumulation, so
 * they agree within 1e-5 of the largest output. This checks the operand layouts, the weight
 * conversion, the bias, the residual post-op and the bf16 intermediate of the factorized layer.
 * It runs on every CPU: where AVX512-BF16 is missing oneDNN converts in software. In fp32
 * (inference) against the OpenBLAS backend on the same operands, to the same 1e-5.
 */
class OneDnnLinearsTest {
    private static final CpuBackend FP32 = new CpuBackend();
    private static final CpuBackend BF16 = CpuBackend.bf16OnAnyCpu();
    private static final CpuBackend FP32_ONEDNN = CpuBackend.fp32Inference();

    @AfterAll
    static void close() {
        BF16.close();
        FP32_ONEDNN.close();
    }

    @ParameterizedTest(name = "rows {0} in {1} out {2} residual {3}")
    @CsvSource({"1, 16, 8, false", "37, 48, 29, true", "197, 64, 96, true", "5, 33, 130, false"})
    void fp32LinearMatchesOpenBlas(int rows, int in, int out, boolean withResidual) {
        float[] x = gaussian(rows * in, 1);
        float[] w = gaussian(out * in, 2);
        float[] b = gaussian(out, 3);
        float[] res = gaussian(rows * out, 4);
        CpuBackend d = FP32_ONEDNN;
        Tensor y = d.allocate(rows * out);
        d.linearForward(upload(d, x), upload(d, w), upload(d, b), withResidual ? upload(d, res) : null, y, rows, in,
                out);
        Tensor expected = FP32.allocate(rows * out);
        FP32.linearForward(upload(FP32, x), upload(FP32, w), upload(FP32, b), withResidual ? upload(FP32, res) : null,
                expected, rows, in, out);
        assertClose("fp32 linear", d.download(y), toDouble(FP32.download(expected)), 1e-5);
    }

    @ParameterizedTest(name = "rows {0} in {1} out {2} R {3} r {4}")
    @CsvSource({"23, 37, 29, 21, 13", "50, 128, 96, 64, 64", "3, 16, 40, 16, 5", "1, 24, 40, 13, 13"})
    void fp32LowRankMatchesOpenBlas(int rows, int in, int out, int maxRank, int r) {
        float[] x = gaussian(rows * in, 5);
        float[] vt = gaussian(maxRank * in, 6);
        float[] u = gaussian(out * maxRank, 7);
        float[] b = gaussian(out, 8);
        float[] res = gaussian(rows * out, 9);
        CpuBackend d = FP32_ONEDNN;
        Tensor y = d.allocate(rows * out);
        d.lowRankForward(upload(d, x), upload(d, vt), upload(d, u), upload(d, b), upload(d, res), d.allocate(rows * r),
                y, rows, in, out, r, maxRank);
        Tensor expected = FP32.allocate(rows * out);
        FP32.lowRankForward(upload(FP32, x), upload(FP32, vt), upload(FP32, u), upload(FP32, b), upload(FP32, res),
                FP32.allocate(rows * r), expected, rows, in, out, r, maxRank);
        assertClose("fp32 low-rank", d.download(y), toDouble(FP32.download(expected)), 1e-5);
    }

    /**
     * The MLP as one op, GELU a post-op of fc1's product and its output kept in the format for
     * fc2: against OpenBLAS's products and our own GELU pass, dense and low-rank, with the
     * residual; in bf16 on operands (and hidden activations) rounded as the op rounds them.
     */
    @ParameterizedTest(name = "{0}: rows {1} in {2} hidden {3} fc1 rank {4} fc2 rank {5}")
    @CsvSource({"FP32, 1, 16, 40, 0, 0", "FP32, 37, 48, 96, 0, 20", "FP32, 197, 64, 256, 20, 0",
        "FP32, 23, 37, 29, 13, 7", "FP32, 197, 64, 256, 0, 0", "FP32, 37, 40, 100, 0, 0", "BF16, 1, 16, 40, 0, 0", "BF16, 37, 48, 96, 0, 20", "BF16, 197, 64, 256, 20, 0",
        "BF16, 23, 37, 29, 13, 7"})
    void mlpAsOneOpMatchesItsLayersAndAGeluPass(Precision precision, int rows, int in, int hidden, int rank1,
                                                int rank2) {
        CpuBackend d = precision == Precision.BF16 ? BF16 : FP32_ONEDNN;
        assertTrue(d.fusesMlp() && !FP32.fusesMlp());
        float[] x = gaussian(rows * in, 11);
        float[] res = gaussian(rows * in, 12);
        TestLayer fc1 = TestLayer.random(in, hidden, rank1, 13);
        TestLayer fc2 = TestLayer.random(hidden, in, rank2, 17);
        Tensor y = d.allocate(rows * in);
        d.mlpForward(upload(d, x), null, fc1.product(d), fc2.product(d), upload(d, res), y, rows);

        Tensor h = upload(FP32, fc1.reference(x, null, rows, precision));
        FP32.geluForward(h, h, (long) rows * hidden);
        float[] expected = fc2.reference(FP32.download(h), res, rows, precision);
        // in bf16 a hidden activation (or a factor's h) whose GELU differs from ours in its last
        // fp32 bit may round to the other bf16 neighbour, 2^-8 off in that element: a few such are
        // within 1e-3, a wrong layout, bias, residual or a missing GELU far outside it
        assertClose(precision + " MLP", d.download(y), toDouble(expected), precision == Precision.BF16 ? 1e-3 : 1e-5);
    }

    /**
     * The MLP op with its layer norm against the same backend's layer norm and then the op on
     * what it wrote: the fused op writes the normalized rows in the products' format itself,
     * rounding where the product's own conversion rounds.
     */
    @ParameterizedTest(name = "{0}: rows {1} in {2} hidden {3} fc1 rank {4}")
    @CsvSource({"FP32, 1, 16, 40, 0", "FP32, 197, 64, 256, 20", "FP32, 197, 64, 256, 0", "BF16, 1, 16, 40, 0",
        "BF16, 197, 64, 256, 20", "BF16, 1500, 48, 96, 0"})
    void mlpNormalizesItsInputAsALayerNormWould(Precision precision, int rows, int in, int hidden, int rank1) {
        CpuBackend d = precision == Precision.BF16 ? BF16 : FP32_ONEDNN;
        Tensor x = upload(d, gaussian(rows * in, 41));
        Tensor res = upload(d, gaussian(rows * in, 42));
        LayerNormWeights norm = new LayerNormWeights(upload(d, gaussian(in, 43)), upload(d, gaussian(in, 44)), 1e-6f);
        LinearProduct fc1 = TestLayer.random(in, hidden, rank1, 45).product(d);
        LinearProduct fc2 = TestLayer.random(hidden, in, 0, 47).product(d);
        Tensor fused = d.allocate(rows * in);
        d.mlpForward(x, norm, fc1, fc2, res, fused, rows);

        Tensor normed = d.allocate(rows * in);
        d.layerNormForward(x, norm.gamma(), norm.beta(), normed, d.allocate(rows), d.allocate(rows), rows, in, 1e-6f);
        Tensor steps = d.allocate(rows * in);
        d.mlpForward(normed, null, fc1, fc2, res, steps, rows);
        assertClose(precision + " normalized MLP", d.download(fused), toDouble(d.download(steps)), 1e-6);
    }

    @Test
    void aBackendThatCanTrainDoesNotFuseTheMlp() {
        Tensor t = FP32.allocate(4);
        LinearProduct p = new LinearProduct.Dense(t, t, 2, 2);
        assertThrows(UnsupportedOperationException.class, () -> FP32.mlpForward(t, null, p, p, null, t, 1));
    }

    /** A layer's weights: dense (rank 0) or factorized with VT [R, in] and U [out, R], R above the rank. */
    private record TestLayer(int in, int out, int rank, float[] w, float[] vt, float[] u, float[] b) {
        static TestLayer random(int in, int out, int rank, int seed) {
            int maxRank = rank + 3;
            return rank == 0
                    ? new TestLayer(in, out, 0, gaussian(out * in, seed), null, null, gaussian(out, seed + 1))
                    : new TestLayer(in, out, rank, null, gaussian(maxRank * in, seed + 2),
                            gaussian(out * maxRank, seed + 3), gaussian(out, seed + 1));
        }

        LinearProduct product(CpuBackend d) {
            return rank == 0
                    ? new LinearProduct.Dense(upload(d, w), upload(d, b), in, out)
                    : new LinearProduct.LowRank(upload(d, vt), upload(d, u), upload(d, b), in, out, rank, rank + 3);
        }

        /** The layer on OpenBLAS, its operands (and a factorized layer's h) rounded to the precision. */
        float[] reference(float[] x, float[] residual, int rows, Precision p) {
            Tensor y = FP32.allocate(rows * out);
            Tensor res = residual == null ? null : upload(FP32, residual);
            Tensor xr = upload(FP32, rounded(x, p));
            if (rank == 0) {
                FP32.linearForward(xr, upload(FP32, rounded(w, p)), upload(FP32, b), res, y, rows, in, out);
            } else {
                Tensor h = FP32.allocate(rows * rank);
                FP32.gemm(false, true, rows, rank, in, 1f, xr, in, upload(FP32, rounded(vt, p)), in, 0f, h, rank);
                FP32.lowRankForward(upload(FP32, rounded(FP32.download(h), p)), identity(rank),
                        upload(FP32, rounded(u, p)), upload(FP32, b), res, null, y, rows, rank, out, rank, rank + 3);
            }
            return FP32.download(y);
        }
    }

    /** Inference opens oneDNN's fp32 products unless the property picks OpenBLAS; training never. */
    @Test
    void fp32InferenceRunsOnOneDnnUnlessToldOtherwise() {
        try (CpuBackend inference = (CpuBackend) Devices.open("cpu", Precision.FP32).backend();
             CpuBackend training = (CpuBackend) Devices.open("cpu").backend()) {
            assertEquals("cpu/fp32-inference", inference.name());
            assertTrue(inference.inferenceOnly());
            assertEquals(Precision.FP32, inference.precision());
            assertEquals("cpu", training.name());
        }
        System.setProperty(Devices.FP32_INFERENCE, "openblas");
        try (CpuBackend openBlas = (CpuBackend) Devices.open("cpu", Precision.FP32).backend()) {
            assertEquals("cpu", openBlas.name());
        } finally {
            System.clearProperty(Devices.FP32_INFERENCE);
        }
    }

    @ParameterizedTest(name = "rows {0} in {1} out {2} residual {3}")
    @CsvSource({"1, 16, 8, false", "37, 48, 29, true", "197, 64, 96, true", "5, 33, 130, false"})
    void linearMatchesRoundedFp32(int rows, int in, int out, boolean withResidual) {
        float[] x = gaussian(rows * in, 1);
        float[] w = gaussian(out * in, 2);
        float[] b = gaussian(out, 3);
        float[] res = gaussian(rows * out, 4);
        Tensor residual = withResidual ? upload(BF16, res) : null;
        Tensor y = BF16.allocate(rows * out);
        BF16.linearForward(upload(BF16, x), upload(BF16, w), upload(BF16, b), residual, y, rows, in, out);

        Tensor expected = FP32.allocate(rows * out);
        FP32.linearForward(upload(FP32, rounded(x, Precision.BF16)), upload(FP32, rounded(w, Precision.BF16)),
                upload(FP32, b), withResidual ? upload(FP32, res) : null, expected, rows, in, out);
        assertClose("bf16 linear", BF16.download(y), toDouble(FP32.download(expected)), 1e-5);
    }

    @ParameterizedTest(name = "rows {0} in {1} out {2} R {3} r {4}")
    @CsvSource({"23, 37, 29, 21, 13", "50, 128, 96, 64, 64", "3, 16, 40, 16, 5", "9, 40, 24, 17, 17", "1, 24, 40, 13, 13"})
    void lowRankMatchesRoundedFp32(int rows, int in, int out, int maxRank, int r) {
        float[] x = gaussian(rows * in, 5);
        float[] vt = gaussian(maxRank * in, 6);
        float[] u = gaussian(out * maxRank, 7);
        float[] b = gaussian(out, 8);
        float[] res = gaussian(rows * out, 9);
        Tensor y = BF16.allocate(rows * out);
        BF16.lowRankForward(upload(BF16, x), upload(BF16, vt), upload(BF16, u), upload(BF16, b), upload(BF16, res),
                BF16.allocate(rows * r), y, rows, in, out, r, maxRank);

        // the reference rounds h to bf16 too, as the bf16 path writes it
        Tensor h = FP32.allocate(rows * r);
        FP32.gemm(false, true, rows, r, in, 1f, upload(FP32, rounded(x, Precision.BF16)), in,
                upload(FP32, rounded(vt, Precision.BF16)), in, 0f, h, r);
        Tensor expected = FP32.allocate(rows * out);
        FP32.lowRankForward(upload(FP32, rounded(FP32.download(h), Precision.BF16)), identity(r),
                upload(FP32, rounded(u, Precision.BF16)), upload(FP32, b), upload(FP32, res), null, expected,
                rows, r, out, r, maxRank);
        assertClose("bf16 low-rank", BF16.download(y), toDouble(FP32.download(expected)), 1e-5);
    }

    @Test
    void weightsAreConvertedOnceAndServeEveryRowCount() {
        try (CpuBackend bf16 = CpuBackend.bf16OnAnyCpu()) {
            Tensor w = upload(bf16, gaussian(24 * 32, 10));
            Tensor b = upload(bf16, gaussian(24, 11));
            for (int rows : new int[] {1, 7, 300, 7}) {
                float[] x = gaussian(rows * 32, rows);
                Tensor y = bf16.allocate(rows * 24);
                bf16.linearForward(upload(bf16, x), w, b, null, y, rows, 32, 24);
                Tensor expected = FP32.allocate(rows * 24);
                FP32.linearForward(upload(FP32, rounded(x, Precision.BF16)),
                        upload(FP32, rounded(FP32.download(w), Precision.BF16)), b, null, expected, rows, 32, 24);
                assertClose("rows " + rows, bf16.download(y), toDouble(FP32.download(expected)), 1e-5);
            }
            assertEquals(1, bf16.packedWeightCount());
        }
    }

    @Test
    void layersOfOneShapeShareTheirPrimitivesButNotTheirWeights() {
        try (CpuBackend bf16 = CpuBackend.bf16OnAnyCpu()) {
            int rows = 9;
            float[] x = gaussian(rows * 32, 12);
            int firstLayersPrimitives = 0;
            for (int layer = 0; layer < 3; layer++) {
                float[] w = gaussian(24 * 32, 20 + layer);
                Tensor b = upload(bf16, gaussian(24, 30 + layer));
                Tensor y = bf16.allocate(rows * 24);
                bf16.linearForward(upload(bf16, x), upload(bf16, w), b, null, y, rows, 32, 24);
                Tensor expected = FP32.allocate(rows * 24);
                FP32.linearForward(upload(FP32, rounded(x, Precision.BF16)), upload(FP32, rounded(w, Precision.BF16)),
                        b, null, expected, rows, 32, 24);
                assertClose("layer " + layer, bf16.download(y), toDouble(FP32.download(expected)), 1e-5);
                if (layer == 0) {
                    firstLayersPrimitives = bf16.productPrimitiveCount();
                }
            }
            assertEquals(3, bf16.packedWeightCount());
            assertTrue(firstLayersPrimitives > 0);
            assertEquals(firstLayersPrimitives, bf16.productPrimitiveCount(), "the later layers made new primitives");
        }
    }

    @Test
    void cpuWithoutBf16InstructionsIsNamed() {
        assertNotNull(OneDnn.bf16UnsupportedReason(0x7)); // avx2
        assertTrue(OneDnn.bf16UnsupportedReason(0x67).contains("AVX512-BF16")); // avx512_core_vnni
        assertNull(OneDnn.bf16UnsupportedReason(0xe7)); // avx512_core_bf16
        assertNull(OneDnn.bf16UnsupportedReason(0xfef)); // amx includes bf16
    }

    @Test
    void theInstructionSetTheProductsRunOnIsNamed() {
        assertEquals("AMX", OneDnn.isaName(0xfef, true));
        assertEquals("AVX-512", OneDnn.isaName(0xfef, false)); // fp32 has no AMX path
        assertEquals("AVX512-BF16", OneDnn.isaName(0xe7, true));
        assertEquals("AVX-512", OneDnn.isaName(0x67, true)); // avx512_core_vnni: no bf16 dot products
        assertEquals("AVX2", OneDnn.isaName(0x7, false));
        assertEquals("SSE4.1", OneDnn.isaName(0x1, false));
    }

    @Test
    void devicesFallBackToFp32WithTheReason() {
        Devices.Opened opened = Devices.open("cpu", Precision.BF16);
        try {
            String why = CpuBackend.bf16UnsupportedReason();
            if (why == null) {
                assertEquals("cpu/bf16", opened.backend().name());
                assertTrue(opened.line().contains("bf16"), opened.line());
            } else {
                assertEquals("cpu/fp32-inference", opened.backend().name());
                assertTrue(opened.line().contains(why), opened.line());
            }
        } finally {
            opened.backend().close();
        }
    }

    /** VT = I so the reference's first product passes its (already rounded) h through. */
    private static Tensor identity(int r) {
        float[] eye = new float[r * r];
        for (int i = 0; i < r; i++) {
            eye[i * r + i] = 1f;
        }
        return upload(FP32, eye);
    }

    /**
     * Products outside a batch's lanes run in halves, each single-threaded in oneDNN: that needs
     * oneDNN's own libgomp, and the count is the calling thread's alone.
     */
    @Test
    void openMpThreadCountIsSetPerThreadInOneDnnsRuntime() throws InterruptedException {
        assertTrue(OpenMpThreads.available(), "oneDNN's libgomp was not found beside its JNI library");
        assertTrue(OpenMpThreads.DEFAULT >= 1);
        int[] seen = new int[2];
        CountDownLatch oneIsSet = new CountDownLatch(1);
        CountDownLatch readHere = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            OpenMpThreads.use(1);
            seen[0] = OpenMpThreads.current();
            oneIsSet.countDown();
            try {
                readHere.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            OpenMpThreads.use(OpenMpThreads.DEFAULT);
            seen[1] = OpenMpThreads.current();
        });
        t.start();
        oneIsSet.await();
        // read while the other thread holds its count of 1
        OpenMpThreads.use(OpenMpThreads.DEFAULT);
        int here = OpenMpThreads.current();
        readHere.countDown();
        t.join();
        assertEquals(1, seen[0]);
        assertEquals(OpenMpThreads.DEFAULT, seen[1]);
        assertEquals(OpenMpThreads.DEFAULT, here);
    }

    /**
     * The rank a factorized layer's products run at (that the padding is exact is checked by
     * {@link #lowRankMatchesRoundedFp32} at ranks off the multiple).
     */
    @Test
    void ranksArePaddedToTheMultipleOneDnnRunsFastest() {
        assertEquals(16, OneDnnLinears.paddedRank(1));
        assertEquals(128, OneDnnLinears.paddedRank(123));
        assertEquals(128, OneDnnLinears.paddedRank(128));
        assertEquals(144, OneDnnLinears.paddedRank(129));
    }

    /** libgomp's threads must not spin between products on the cores our pool needs next. */
    @Test
    void openMpWaitsPassivelyUnlessTheEnvironmentSaysOtherwise() {
        OneDnn.engine();
        String inherited = System.getenv(OneDnn.OMP_WAIT_POLICY);
        assertEquals(inherited == null ? "PASSIVE" : inherited, Libc.getenv(OneDnn.OMP_WAIT_POLICY));
    }
}
