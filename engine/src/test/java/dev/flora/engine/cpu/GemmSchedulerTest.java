package dev.flora.engine.cpu;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.cpu.GemmScheduler.Mode;
import dev.flora.engine.reference.Ref;
import dev.flora.engine.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The GEMM scheduling policy on its own: which threads and which bands it picks for a shape,
 * and that its bands, run in any order at any thread count, add up to the plain product.
 */
class GemmSchedulerTest {
    private static final CpuBackend CPU = new CpuBackend();
    private static final double TOLERANCE = 1e-5;

    @Test
    void theModeFollowsTheSizeThenTheThreads() {
        assertEquals(Mode.CALLER, GemmScheduler.mode(GemmScheduler.PAIR_GEMM_MACS - 1, 16));
        assertEquals(Mode.PAIR, GemmScheduler.mode(GemmScheduler.PAIR_GEMM_MACS, 2));
        assertEquals(Mode.PAIR, GemmScheduler.mode(GemmScheduler.PARALLEL_GEMM_MACS - 1, 16));
        assertEquals(Mode.POOL, GemmScheduler.mode(GemmScheduler.PARALLEL_GEMM_MACS, 2));
        assertEquals(Mode.CALLER, GemmScheduler.mode(GemmScheduler.PARALLEL_GEMM_MACS * 100, 1),
                "one thread (inside a lane task) never splits");
        // the layers of vit-fmnist: a class head on one image, a linear layer on one image's
        // 50 tokens, the same layer on a lane of 16 images
        assertEquals(Mode.CALLER, GemmScheduler.mode(1L * 10 * 128, 16));
        assertEquals(Mode.PAIR, GemmScheduler.mode(50L * 512 * 128, 16));
        assertEquals(Mode.POOL, GemmScheduler.mode(800L * 512 * 128, 16));
    }

    @Test
    void eachModeHasItsBandCount() {
        assertEquals(1, GemmScheduler.bands(Mode.CALLER, 16));
        assertEquals(2, GemmScheduler.bands(Mode.PAIR, 16));
        assertEquals(16, GemmScheduler.bands(Mode.POOL, 16));
        assertEquals(3, GemmScheduler.bands(Mode.POOL, 3));
    }

    @ParameterizedTest(name = "C {0}x{1} in {2} bands: by rows {3}")
    @CsvSource({
        "300, 70, 2, true",    // tall: rows
        "100, 100, 2, true",   // square: rows
        "50, 200, 2, false",   // wide and short: columns
        "50, 512, 16, false",  // 32 columns a band
        "50, 200, 16, true",   // columns would be under 16 a band
        "50, 32, 2, true"})    // 16 a band is enough, but C is not wider than tall
    void wideShortProductsAreCutByColumnsOnlyWhenEachBandGetsAVectorTile(int m, int n, int parts, boolean rows) {
        assertEquals(rows, GemmScheduler.byRows(m, n, parts));
    }

    @Test
    void bandsTileTheExtentOnceAndColumnBandsStartOnVectorTiles() {
        for (int extent : new int[] {1, 15, 16, 50, 200, 513}) {
            for (int parts : new int[] {1, 2, 3, 7, 16}) {
                for (int align : new int[] {1, GemmScheduler.COLUMN_ALIGN}) {
                    String what = extent + " in " + parts + " aligned to " + align;
                    assertEquals(0, GemmScheduler.bandStart(extent, parts, 0, align), what);
                    assertEquals(extent, GemmScheduler.bandStart(extent, parts, parts, align), what);
                    for (int p = 1; p < parts; p++) {
                        int start = GemmScheduler.bandStart(extent, parts, p, align);
                        assertTrue(start >= GemmScheduler.bandStart(extent, parts, p - 1, align), what);
                        assertEquals(0, start % align, what + ": band " + p + " starts at " + start);
                    }
                }
            }
        }
        // rounded down, not to the nearest tile: 200 columns in 2 bands split at 96, not 112
        assertEquals(96, GemmScheduler.bandStart(200, 2, 1, GemmScheduler.COLUMN_ALIGN));
    }

    @Test
    void enoughSmallProductsGoToOneTask() {
        // attention at vit-fmnist's shapes: 50 tokens, 32 per head, q·kᵀ and p·v
        assertEquals(26, GemmScheduler.itemsPerTask(2L * 50 * 50 * 32));
        assertEquals(1, GemmScheduler.itemsPerTask(GemmScheduler.PARALLEL_GEMM_MACS * 3));
    }

    static Stream<Arguments> bandShapes() {
        // row bands; column bands (at 2 and 3 parts; rows at 16); 50 x 512 column bands at
        // 16 parts; a weight gradient whose k is long enough for small-matrix pieces
        int[][] shapes = {{300, 70, 120}, {50, 200, 130}, {50, 512, 64}, {130, 120, 300}};
        Stream.Builder<Arguments> cases = Stream.builder();
        for (int[] s : shapes) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    for (int parts : new int[] {1, 2, 3, 16}) {
                        cases.add(Arguments.of(ta, tb, s[0], s[1], s[2], parts));
                    }
                }
            }
        }
        return cases.build();
    }

    /**
     * C starts as NaN, and each band's prefill writes its block's starting values before the
     * band accumulates onto them (beta = 1): a band whose GEMM strays off its prefilled block
     * leaves NaN or misses the starting values, and a block prefilled twice or never is counted.
     * The bands run one after the other, last first, with the small-matrix pieces forced on.
     */
    @ParameterizedTest(name = "transA {0} transB {1} {2}x{3}x{4} in {5} bands")
    @MethodSource("bandShapes")
    void everyBandAfterItsPrefillAddsUpToTheReference(boolean ta, boolean tb, int m, int n, int k, int parts) {
        Operands g = new Operands(ta, tb, m, n, k, 1);
        float[] start = Arrays.copyOf(g.c, g.c.length);
        for (int i = 0; i < m; i++) {
            Arrays.fill(start, i * g.ldc, i * g.ldc + n, Float.NaN);
        }
        Tensor c = upload(CPU, start);
        FloatBuffer cb = CpuBackend.buf(c);
        int[] prefills = new int[m * n];
        GemmScheduler.Prefill prefill = (rowLo, rowHi, colLo, colHi) -> {
            for (int r = rowLo; r < rowHi; r++) {
                cb.put(CpuBackend.base(c) + r * g.ldc + colLo, g.c, r * g.ldc + colLo, colHi - colLo);
                for (int j = colLo; j < colHi; j++) {
                    prefills[r * n + j]++;
                }
            }
        };
        float alpha = 0.5f;
        for (int p = parts - 1; p >= 0; p--) {
            GemmScheduler.band(p, parts, true, ta, tb, m, n, k, alpha, g.at, g.lda, g.bt, g.ldb, 1f, c, g.ldc,
                    prefill);
        }
        for (int i = 0; i < prefills.length; i++) {
            assertEquals(1, prefills[i], "prefills of C[" + i / n + ", " + i % n + "]");
        }
        double[] expect = Ref.gemm(ta, tb, m, n, k, alpha, g.a, 0, g.lda, g.b, 0, g.ldb, 1, g.c, 0, g.ldc);
        assertClose("bands of " + m + "x" + n + "x" + k, CPU.download(c), expect, TOLERANCE);
    }

    /** Through the threads this machine has, one shape for each mode; C's padding is left alone. */
    @ParameterizedTest(name = "transA {0} transB {1} {2}x{3}x{4}")
    @CsvSource({
        "false, false, 8, 8, 8", "true, false, 8, 8, 8",
        "false, true, 50, 200, 130", "true, false, 50, 200, 130",
        "false, true, 300, 200, 130", "true, false, 300, 200, 130", "true, true, 120, 300, 130"})
    void aScheduledGemmEqualsTheReference(boolean ta, boolean tb, int m, int n, int k) {
        Operands g = new Operands(ta, tb, m, n, k, 1);
        Tensor c = upload(CPU, g.c);
        GemmScheduler.run(ta, tb, m, n, k, 0.75f, g.at, g.lda, g.bt, g.ldb, -0.5f, c, g.ldc, null);
        double[] expect = Ref.gemm(ta, tb, m, n, k, 0.75, g.a, 0, g.lda, g.b, 0, g.ldb, -0.5, g.c, 0, g.ldc);
        assertClose(GemmScheduler.mode((long) m * n * k, Parallel.threads()) + " GEMM", CPU.download(c), expect,
                TOLERANCE);
    }

    @Test
    void productsOfNoRowsOrColumnsLeaveCAlone() {
        Tensor c = upload(CPU, new float[] {1, 2, 3});
        Tensor a = upload(CPU, new float[] {4, 5, 6});
        GemmScheduler.run(false, false, 0, 3, 1, 1f, a, 1, a, 3, 0f, c, 3, (rl, rh, cl, ch) -> {
            throw new AssertionError("prefill of an empty product");
        });
        GemmScheduler.runBatched(false, false, 1, 0, 1, 1f, a, 1, 1, a, 1, 1, 0f, c, 1, 1, 3);
        assertEquals(Arrays.toString(new float[] {1, 2, 3}), Arrays.toString(CPU.download(c)));
    }

    /**
     * Whole problems inline, halves with the helper, ranges on the pool, and problems big
     * enough to be scheduled one by one; strides leave gaps between the problems' blocks.
     */
    @ParameterizedTest(name = "{0} problems of {1}x{2}x{3}")
    @CsvSource({"8, 16, 16, 16", "4, 50, 50, 64", "64, 50, 50, 64", "2, 300, 200, 130"})
    void batchedProblemsEqualTheReferenceOneByOne(int batch, int m, int n, int k) {
        boolean ta = true;
        boolean tb = false;
        Operands g = new Operands(ta, tb, m, n, k, batch);
        Tensor c = upload(CPU, g.c);
        GemmScheduler.runBatched(ta, tb, m, n, k, 1.25f, g.at, g.lda, g.strideA, g.bt, g.ldb, g.strideB, 0.5f, c,
                g.ldc, g.strideC, batch);
        double[] expect = Ref.gemm(ta, tb, m, n, k, 1.25, g.a, 0, g.lda, g.b, 0, g.ldb, 0.5, g.c, 0, g.ldc);
        for (int i = 1; i < batch; i++) {
            int cOff = i * g.strideC;
            double[] problem = Ref.gemm(ta, tb, m, n, k, 1.25, g.a, i * g.strideA, g.lda, g.b, i * g.strideB, g.ldb,
                    0.5, g.c, cOff, g.ldc);
            System.arraycopy(problem, cOff, expect, cOff, m * g.ldc);
        }
        assertClose(batch + " problems", CPU.download(c), expect, TOLERANCE);
    }

    /**
     * Random A, B and C for {@code batch} problems op(A) [m, k] · op(B) [k, n], with leading
     * dimensions past the matrices' widths and a gap between consecutive problems.
     */
    private static final class Operands {
        final int lda;
        final int ldb;
        final int ldc;
        final int strideA;
        final int strideB;
        final int strideC;
        final float[] a;
        final float[] b;
        final float[] c;
        final Tensor at;
        final Tensor bt;

        Operands(boolean ta, boolean tb, int m, int n, int k, int batch) {
            lda = (ta ? m : k) + 3;
            ldb = (tb ? k : n) + 2;
            ldc = n + 5;
            strideA = (ta ? k : m) * lda + 7;
            strideB = (tb ? n : k) * ldb + 4;
            strideC = m * ldc + 6;
            a = gaussian(strideA * batch, m * 31L + n);
            b = gaussian(strideB * batch, k * 17L + 1);
            c = gaussian(strideC * batch, 5);
            at = upload(CPU, a);
            bt = upload(CPU, b);
        }
    }
}
