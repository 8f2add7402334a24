package dev.flora.engine.cpu;

import dev.flora.engine.tensor.Tensor;

/**
 * Skinny GEMMs in pieces that OpenBLAS runs on its small-matrix path. Its AVX-512 kernel sets
 * ({@link OpenBlasKernels#hasSmallMatrixKernels}) multiply a product of at most 100³
 * multiply-adds without packing the operands; for a product with one short dimension (a
 * factorized layer's rank, or the rows of a weight gradient's pieces) packing costs as much
 * as the arithmetic, so pieces under that size, which skip the packing, are faster. The AVX2
 * (Haswell) kernels have no such path: there pieces only add calls, and were slower, so
 * everything stays whole.
 */
final class SmallGemms {
    /** OpenBLAS's limit: m·n·k at most 100³ ({@code sgemm_small_kernel_permit_skylakex.c}). */
    static final long MAX_MACS = 1_000_000;
    /** Its limit on C for the transposed-A form of row-major calls (col-major TN): 1200 elements. */
    static final int MAX_TRANSPOSED_C = 1200;
    /**
     * Thinner pieces lose: every piece reads and writes all of C for a thin slice of the work,
     * and below this that costs more than the packing saves. Within a training lane (op
     * profile, one thread) vit-fmnist's 512x128 fc1 weight gradient was slower in pieces of 15
     * rows than whole, while its 128x128 proj gradient gained from pieces of 61.
     */
    static final int MIN_PIECE = 16;

    private SmallGemms() {
    }

    /** Whether the kernels that run have the small-matrix path. */
    static boolean available() {
        return OpenBlasKernels.hasSmallMatrixKernels();
    }

    /**
     * Extent per piece (rows, or k) of a product whose other two dimensions multiply to
     * {@code otherDims}: the most under the limit, or all of {@code extent} when {@code use} is
     * false or the pieces would be thinner than {@link #MIN_PIECE}.
     */
    static int piece(int extent, long otherDims, boolean use) {
        if (!use) {
            return extent;
        }
        long piece = MAX_MACS / Math.max(1, otherDims);
        return piece < MIN_PIECE ? extent : (int) Math.min(extent, piece);
    }

    /**
     * C [m, n] = alpha·Aᵀ·B + beta·C with A [k, m] and B [k, n] row-major: a weight gradient's
     * form, summed over pieces of k (beta on the first, then accumulating).
     */
    static void transAInPieces(int m, int n, int k, float alpha, Tensor a, long aOff, int lda, Tensor b, long bOff,
                               int ldb, float beta, Tensor c, long cOff, int ldc, boolean use) {
        int piece = piece(k, (long) m * n, use);
        if (piece >= k) {
            CpuBackend.sgemm(true, false, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        for (int p = 0; p < k; p += piece) {
            int kk = Math.min(piece, k - p);
            CpuBackend.sgemm(true, false, m, n, kk, alpha, a, aOff + (long) p * lda, lda, b, bOff + (long) p * ldb,
                    ldb, p == 0 ? beta : 1f, c, cOff, ldc);
        }
    }
}
