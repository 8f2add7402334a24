package dev.flora.engine.cpu;

import dev.flora.engine.tensor.Tensor;

/**
 * How the CPU backend spreads a GEMM over its threads: the one place where the GEMM scheduling
 * policy lives, so that it is tuned here and {@link CpuBackend}'s ops only say which product
 * they need.
 *
 * <p>OpenBLAS runs single-threaded (see {@link OpenBlasKernels}); parallelism comes from cutting
 * C into independent bands, each an OpenBLAS call on offsets of the same operands. By size:
 * <ul>
 *   <li>below {@link #PAIR_GEMM_MACS} multiply-adds, or with one thread, the caller runs the
 *       whole product ({@link Mode#CALLER});
 *   <li>below {@link #PARALLEL_GEMM_MACS}, two halves on the caller and the spinning helper
 *       ({@link Mode#PAIR}, {@link Parallel#pair});
 *   <li>from there up, one band per pool thread ({@link Mode#POOL}).
 * </ul>
 * A band is a block of rows of C, or of 16-aligned columns when C is wide and short
 * ({@link #byRows}). The weight-gradient form Aᵀ·B goes over k in small-matrix pieces
 * ({@link SmallGemms}) inside each band.
 *
 * <p>The bands depend only on the shape and the thread count, and each element of C is written
 * by exactly one band, so the result does not depend on timing.
 */
final class GemmScheduler {
    /**
     * GEMMs below this many multiply-adds stay off the pool: waking a parked worker costs more
     * than their arithmetic, and single-image inference is made of such products.
     */
    static final long PARALLEL_GEMM_MACS = 1L << 22;
    /**
     * GEMMs from here up to {@link #PARALLEL_GEMM_MACS} are split in two with the spinning
     * helper (the single-image linear layers: 50 rows × 128–512); smaller ones run on the caller.
     */
    static final long PAIR_GEMM_MACS = 1L << 18;
    /** Column bands start on multiples of this, so that each stays on whole vector tiles. */
    static final int COLUMN_ALIGN = 16;

    /** Which threads run one GEMM. */
    enum Mode {
        /** The calling thread alone, the whole product. */
        CALLER,
        /** Two bands: the caller and the spinning helper. */
        PAIR,
        /** One band per thread of the pool. */
        POOL
    }

    /** Writes C[rowLo:rowHi, colLo:colHi] before a GEMM with beta = 1 accumulates onto it. */
    @FunctionalInterface
    interface Prefill {
        void fill(int rowLo, int rowHi, int colLo, int colHi);
    }

    private GemmScheduler() {
    }

    /** The mode for a GEMM of {@code macs} multiply-adds when {@code threads} may work on it. */
    static Mode mode(long macs, int threads) {
        if (macs < PAIR_GEMM_MACS || threads == 1) {
            return Mode.CALLER;
        }
        return macs < PARALLEL_GEMM_MACS ? Mode.PAIR : Mode.POOL;
    }

    /** How many bands a GEMM in {@code mode} is cut into. */
    static int bands(Mode mode, int threads) {
        return switch (mode) {
            case CALLER -> 1;
            case PAIR -> 2;
            case POOL -> threads;
        };
    }

    /**
     * Whether C [m, n] in {@code parts} bands is cut by rows; by columns only when it is wider
     * than tall and each column band still gets at least {@link #COLUMN_ALIGN} columns.
     */
    static boolean byRows(int m, int n, int parts) {
        return m >= n || n < COLUMN_ALIGN * parts;
    }

    /** Start of band p of parts over [0, extent), rounded down to a multiple of align; band parts ends at extent. */
    static int bandStart(int extent, int parts, int p, int align) {
        if (p >= parts) {
            return extent;
        }
        return (int) ((long) extent * p / parts) / align * align;
    }

    /**
     * Items (small independent products, e.g. attention's (image, head) pairs of
     * {@code macsPerItem} multiply-adds each) per pool task: enough for one task to be worth a
     * pool hand-off.
     */
    static int itemsPerTask(long macsPerItem) {
        return (int) Math.max(1, PARALLEL_GEMM_MACS / macsPerItem);
    }

    /**
     * C = alpha·op(A)·op(B) + beta·C in bands over the threads the caller may use; each band
     * first runs {@code prefill} (when not null) on its own block of C, so the block is written
     * by the core that then accumulates onto it.
     */
    static void run(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, int lda, Tensor b,
                    int ldb, float beta, Tensor c, int ldc, Prefill prefill) {
        if (m == 0 || n == 0) {
            return;
        }
        int threads = Parallel.threads();
        Mode mode = mode((long) m * n * k, threads);
        int parts = bands(mode, threads);
        boolean small = SmallGemms.available();
        switch (mode) {
            case CALLER -> band(0, 1, small, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, prefill);
            case PAIR -> Parallel.pair(
                    () -> band(0, 2, small, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, prefill),
                    () -> band(1, 2, small, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, prefill));
            case POOL -> Parallel.forRange(parts, 1, (s, e) -> {
                for (int p = s; p < e; p++) {
                    band(p, parts, small, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, prefill);
                }
            });
        }
    }

    /**
     * {@code batch} problems at strides of A, B and C. A problem big enough for the pool on its
     * own is {@linkplain #run run} in bands, one after the other; smaller ones go whole, a
     * range of problems per thread, with the pool or the spinning helper only when all of them
     * together are worth it.
     */
    static void runBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, int lda,
                           long strideA, Tensor b, int ldb, long strideB, float beta, Tensor c, int ldc, long strideC,
                           int batch) {
        if (m == 0 || n == 0 || batch == 0) {
            return;
        }
        if ((long) m * n * k >= PARALLEL_GEMM_MACS) {
            for (int i = 0; i < batch; i++) {
                run(transA, transB, m, n, k, alpha, a.from(strideA * i), lda, b.from(strideB * i), ldb, beta,
                        c.from(strideC * i), ldc, null);
            }
            return;
        }
        // small problems: whole problems per worker
        Parallel.RangeBody problems = (s, e) -> {
            for (int i = s; i < e; i++) {
                CpuBackend.sgemm(transA, transB, m, n, k, alpha, a, strideA * i, lda, b, strideB * i, ldb, beta, c,
                        strideC * i, ldc);
            }
        };
        long total = (long) m * n * k * batch;
        if (total >= PARALLEL_GEMM_MACS) {
            Parallel.forRange(batch, 1, problems);
        } else if (total >= PAIR_GEMM_MACS && batch >= 2) {
            // a few small problems (attention's backward at small batches): too little for the
            // pool, halves with the spinning helper
            int half = batch / 2;
            Parallel.pair(() -> problems.run(0, half), () -> problems.run(half, batch));
        } else {
            problems.run(0, batch);
        }
    }

    /**
     * Band {@code p} of {@code parts} of C (see {@link #byRows}): an independent GEMM on offsets
     * of the same operands, after {@code prefill} of its block. {@code smallGemms} lets Aᵀ·B go
     * in small-matrix pieces.
     */
    static void band(int p, int parts, boolean smallGemms, boolean transA, boolean transB, int m, int n, int k,
                     float alpha, Tensor a, int lda, Tensor b, int ldb, float beta, Tensor c, int ldc,
                     Prefill prefill) {
        boolean byRows = byRows(m, n, parts);
        int extent = byRows ? m : n;
        int align = byRows ? 1 : COLUMN_ALIGN;
        int lo = bandStart(extent, parts, p, align);
        int hi = bandStart(extent, parts, p + 1, align);
        if (hi == lo) {
            return;
        }
        if (byRows) {
            if (prefill != null) {
                prefill.fill(lo, hi, 0, n);
            }
            long aOff = transA ? lo : (long) lo * lda;
            bandGemm(smallGemms, transA, transB, hi - lo, n, k, alpha, a, aOff, lda, b, 0, ldb, beta, c,
                    (long) lo * ldc, ldc);
        } else {
            if (prefill != null) {
                prefill.fill(0, m, lo, hi);
            }
            long bOff = transB ? (long) lo * ldb : lo;
            bandGemm(smallGemms, transA, transB, m, hi - lo, k, alpha, a, 0, lda, b, bOff, ldb, beta, c, lo, ldc);
        }
    }

    /** One band's GEMM; the weight-gradient form Aᵀ·B goes over k in small-matrix pieces ({@link SmallGemms}). */
    private static void bandGemm(boolean smallGemms, boolean transA, boolean transB, int m, int n, int k, float alpha,
                                 Tensor a, long aOff, int lda, Tensor b, long bOff, int ldb, float beta, Tensor c,
                                 long cOff, int ldc) {
        if (transA && !transB) {
            SmallGemms.transAInPieces(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, smallGemms);
        } else {
            CpuBackend.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }
}
