package dev.flora.engine.cpu;

import dev.flora.engine.tensor.Tensor;

/**
 * The factorized linear layer on the CPU, walked in chunks of rows so that each chunk of the
 * wide operand (y in the forward, dy in the backward) is still in L2 when the next GEMM or
 * pass reads it. Unchunked, the backward reads dy from memory three times (dh, dU, the bias
 * sum) and the forward reads y again to add the bias; at rank 0.25·d those passes cost as
 * much as the skinny GEMMs themselves.
 *
 * <p>The weight gradients are summed per part of the row range into scratch and the parts
 * added in order; the number of parts depends on the row count only, so the result does not
 * depend on the number of threads.
 *
 * <p>Where OpenBLAS has a small-matrix path ({@link SmallGemms}) the skinny GEMMs go in pieces
 * of rows small enough for it, which spares packing operands whose short rank dimension makes
 * the packing cost as much as the arithmetic.
 *
 * <p>Arguments are checked by {@link CpuBackend} ({@code OpContracts}) before they get here.
 */
final class CpuLowRank {
    /**
     * Most rows per chunk: 400 rows of dy at 512 columns are 800 KB, within a 1 MB L2. Chunks as
     * large as L2 holds mean fewer, larger GEMM calls; 256-row chunks were slower at a lane's
     * 800 rows and no better at 6400 ({@code LowRankLinearBenchmark}).
     */
    private static final int CHUNK_ROWS = 400;
    /** Fewest rows per chunk when a small row range (one image's tokens) is split in two. */
    private static final int MIN_SPLIT_ROWS = 16;
    /** Most parts of the row range, each with its own weight-gradient partials. */
    private static final int MAX_PARTS = 8;

    /** Inputs at least this wide make the forward's first GEMM gain from pieces at every rank measured. */
    private static final int WIDE_INPUT = 256;

    /** Per calling thread: the forward's intermediate when the caller keeps none, and the partials. */
    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private record Buffers(GrowingTensor mid, GrowingTensor partials) {
        Buffers() {
            this(new GrowingTensor(), new GrowingTensor());
        }
    }

    private CpuLowRank() {
    }

    /**
     * How many chunks of near-equal size (bounds from {@link #chunkRow}) the rows are walked in:
     * at most {@link #CHUNK_ROWS} rows each, and at least two when there are enough rows, so
     * that two cores share even one image's tokens. Unequal chunks (256-row ones: 256, 256, 256, 32 for 800
     * rows) left one core with 512 rows and the other with 288. The count depends on the rows
     * only, which keeps the backward's summation order independent of the thread count.
     */
    static int chunkCount(int rows) {
        int chunks = (rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
        return rows >= 2 * MIN_SPLIT_ROWS ? Math.max(2, chunks) : chunks;
    }

    /**
     * Rows per call of the forward's first GEMM, x · VTᵀ: its C is pieces × r, which must stay
     * within {@link SmallGemms#MAX_TRANSPOSED_C}. Above rank 75 even the thinnest useful piece
     * breaks that limit, and pieces OpenBLAS does not take on its small path are each packed,
     * which costs more than the whole product; so there the product stays whole.
     */
    static int firstGemmPieceRows(int rows, int in, int r, boolean smallGemms) {
        int withinC = SmallGemms.MAX_TRANSPOSED_C / Math.max(1, r);
        if (in < WIDE_INPUT || !smallGemms || withinC < SmallGemms.MIN_PIECE) {
            return rows;
        }
        return Math.min(SmallGemms.piece(rows, (long) in * r, true), withinC);
    }

    /** First row of chunk c of {@code chunks}. */
    private static int chunkRow(int rows, int chunks, int c) {
        return Parallel.chunkStart(rows, chunks, c);
    }

    /**
     * Each chunk of y is first written with the bias (plus the residual) and the second GEMM
     * accumulates onto it (beta = 1), which spares OpenBLAS's own clearing pass over y.
     */
    static void forward(Tensor x, Tensor vt, Tensor u, Tensor bias, Tensor residual, Tensor h, Tensor y, int rows,
                        int in, int out, int r, int maxRank) {
        forward(x, vt, u, bias, residual, h, y, rows, in, out, r, maxRank, SmallGemms.available());
    }

    /** {@link #forward}, in pieces for the small-matrix path when {@code smallGemms}. */
    static void forward(Tensor x, Tensor vt, Tensor u, Tensor bias, Tensor residual, Tensor h, Tensor y, int rows,
                        int in, int out, int r, int maxRank, boolean smallGemms) {
        if (rows == 0) {
            return;
        }
        Tensor mid = h != null ? h : BUFFERS.get().mid.get((long) rows * r);
        float[] b = Scratch.floats(Scratch.OP_A, out);
        CpuBackend.buf(bias).get(CpuBackend.base(bias), b, 0, out);
        int chunks = chunkCount(rows);
        int piece = firstGemmPieceRows(rows, in, r, smallGemms);
        // two chunks per task: a pair of chunks (one image) goes to the spinning helper, not the pool
        Parallel.forRange(chunks, 2, (s, e) -> {
            for (int c = s; c < e; c++) {
                int lo = chunkRow(rows, chunks, c);
                int n = chunkRow(rows, chunks, c + 1) - lo;
                CpuBackend.writeBiasRows(y, b, residual, out, lo, lo + n, 0, out);
                for (int p = lo; p < lo + n; p += piece) {
                    int m = Math.min(piece, lo + n - p);
                    CpuBackend.sgemm(false, true, m, r, in, 1f, x, (long) p * in, in, vt, 0, in, 0f, mid,
                            (long) p * r, r);
                }
                CpuBackend.sgemm(false, true, n, out, r, 1f, mid, (long) lo * r, r, u, 0, maxRank, 1f, y,
                        (long) lo * out, out);
            }
        });
    }

    static void backward(Tensor dy, Tensor x, Tensor h, Tensor vt, Tensor u, Tensor dh, Tensor dx, Tensor dVt,
                         Tensor dU, Tensor dBias, int rows, int in, int out, int r, int maxRank) {
        backward(dy, x, h, vt, u, dh, dx, dVt, dU, dBias, rows, in, out, r, maxRank,
                SmallGemms.available());
    }

    /** {@link #backward}, in pieces for the small-matrix path when {@code smallGemms}. */
    static void backward(Tensor dy, Tensor x, Tensor h, Tensor vt, Tensor u, Tensor dh, Tensor dx, Tensor dVt,
                         Tensor dU, Tensor dBias, int rows, int in, int out, int r, int maxRank, boolean smallGemms) {
        if (rows == 0) {
            return;
        }
        int chunks = chunkCount(rows);
        int parts = Math.min(MAX_PARTS, chunks);
        // each part: its dU [out, r], then dVt [r, in], then the bias sums [out]
        long uSize = (long) out * r;
        long vtSize = (long) r * in;
        long partSize = uSize + vtSize + out;
        Tensor partials = BUFFERS.get().partials.get(partSize * parts);
        int outPiece = SmallGemms.piece(rows, (long) r * out, smallGemms);
        int inPiece = SmallGemms.piece(rows, (long) r * in, smallGemms);
        Parallel.forRange(parts, 2, (s, e) -> {
            for (int p = s; p < e; p++) {
                long dUOff = p * partSize;
                long dVtOff = dUOff + uSize;
                long biasOff = dVtOff + vtSize;
                int first = Parallel.chunkStart(chunks, parts, p);
                int last = Parallel.chunkStart(chunks, parts, p + 1);
                for (int c = first; c < last; c++) {
                    int lo = chunkRow(rows, chunks, c);
                    int n = chunkRow(rows, chunks, c + 1) - lo;
                    float beta = c == first ? 0f : 1f;
                    // the bias sum reads the chunk of dy first, so the two GEMMs find it in cache
                    ColumnSums.sum(dy, (long) lo * out, n, out, beta, partials, biasOff);
                    // dh and dU read dy (r·out per row), dx and dVt read dh and x (r·in per row)
                    for (int q = lo; q < lo + n; q += outPiece) {
                        int m = Math.min(outPiece, lo + n - q);
                        float b = q == lo ? beta : 1f;
                        long dyOff = (long) q * out;
                        long hOff = (long) q * r;
                        CpuBackend.sgemm(false, false, m, r, out, 1f, dy, dyOff, out, u, 0, maxRank, 0f, dh, hOff, r);
                        CpuBackend.sgemm(true, false, out, r, m, 1f, dy, dyOff, out, h, hOff, r, b, partials, dUOff, r);
                    }
                    for (int q = lo; q < lo + n; q += inPiece) {
                        int m = Math.min(inPiece, lo + n - q);
                        float b = q == lo ? beta : 1f;
                        long hOff = (long) q * r;
                        CpuBackend.sgemm(false, false, m, in, r, 1f, dh, hOff, r, vt, 0, in, 0f, dx, (long) q * in, in);
                        CpuBackend.sgemm(true, false, r, in, m, 1f, dh, hOff, r, x, (long) q * in, in, b, partials,
                                dVtOff, in);
                    }
                }
            }
        });
        ColumnSums.addParts(dU, maxRank, partials, 0, partSize, parts, out, r);
        ColumnSums.addParts(dVt, in, partials, uSize, partSize, parts, r, in);
        ColumnSums.addParts(dBias, out, partials, uSize + vtSize, partSize, parts, 1, out);
    }
}
