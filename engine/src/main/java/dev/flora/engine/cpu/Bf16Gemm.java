package dev.flora.engine.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.dnnl_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reorder_primitive_desc_create;

import dev.flora.engine.tensor.Tensor;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.Pointer;

/**
 * C = op(A) · op(B) (+ C) on fp32 tensors with both operands rounded to bf16 and the products
 * accumulated in fp32 by oneDNN's matmul: the matrix products of mixed-precision training.
 * Unlike {@link OneDnnLinears}, nothing of the operands is kept between calls, since in training
 * the weights change with every step: each operand is converted to bf16 in one of this thread's
 * buffers ({@link #convert}), dense and in the orientation it is stored in, and the matmul reads
 * it transposed where the product needs it so. A caller whose two products share an operand
 * (a layer's backward reads dy twice) converts it once. The conversions cost one pass over each
 * operand, small beside the product at the row counts training runs. The products run on
 * {@link OneDnnMatmuls}; the conversions too are made once per shape and shared by all threads.
 */
final class Bf16Gemm implements AutoCloseable {
    /** Operands one product or backward holds converted at once (a low-rank backward, four). */
    static final int SLOTS = 4;
    private static final int BF16_BYTES = 2;
    private static final ThreadLocal<OneDnn.AlignedBuffer[]> BUFFERS = ThreadLocal.withInitial(() -> {
        OneDnn.AlignedBuffer[] b = new OneDnn.AlignedBuffer[SLOTS];
        for (int i = 0; i < SLOTS; i++) {
            b[i] = new OneDnn.AlignedBuffer();
        }
        return b;
    });

    /** An fp32 matrix converted to bf16: rows × cols, element (i, j) at i·cols + j; valid until its slot is reused. */
    record Converted(Pointer data, int rows, int cols) {
    }

    /**
     * An fp32 operand's shape: {@code batch} matrices rows × cols with row stride ld, each
     * {@code stride} floats after the one before (batch 1: a single matrix).
     */
    private record ConversionKey(int batch, int rows, int cols, int ld, long stride) {
    }

    /** A conversion to dense bf16 and the descriptors it reads and writes. */
    private record Conversion(OneDnn.Primitive primitive, dnnl_memory_desc from, dnnl_memory_desc to) {
        void destroy() {
            primitive.destroy();
            dnnl_memory_desc_destroy(from);
            dnnl_memory_desc_destroy(to);
        }
    }

    private final ConcurrentHashMap<ConversionKey, Conversion> conversions = new ConcurrentHashMap<>();
    private final OneDnnMatmuls matmuls = new OneDnnMatmuls();

    /**
     * C [m, n] (at cOff, row stride ldc) = op(A) [m, k] · op(B) [k, n], plus C's old values when
     * {@code accumulate}; A, B and C are fp32 at the given float offsets, as in cblas_sgemm.
     * Converts A into slot 0 and B into slot 1.
     */
    void multiply(boolean transA, boolean transB, int m, int n, int k, Tensor a, long aOff, int lda, Tensor b,
                  long bOff, int ldb, boolean accumulate, Tensor c, long cOff, int ldc) {
        if (m == 0 || n == 0 || k == 0) {
            multiply(null, transA, null, transB, m, n, k, accumulate, c, cOff, ldc);
            return;
        }
        Converted left = transA ? convert(a, aOff, k, m, lda, 0) : convert(a, aOff, m, k, lda, 0);
        Converted right = transB ? convert(b, bOff, n, k, ldb, 1) : convert(b, bOff, k, n, ldb, 1);
        multiply(left, transA, right, transB, accumulate, c, cOff, ldc);
    }

    /** The fp32 matrix rows × cols at {@code off} (row stride ld) in bf16, in this thread's buffer {@code slot}. */
    Converted convert(Tensor t, long off, int rows, int cols, int ld, int slot) {
        return new Converted(convert(t, off, new ConversionKey(1, rows, cols, ld, 0), slot), rows, cols);
    }

    /** The operand's matrices, dense one after another in this thread's buffer {@code slot}. */
    private Pointer convert(Tensor t, long off, ConversionKey key, int slot) {
        Pointer dst = BUFFERS.get()[slot].atLeast((long) key.batch() * key.rows() * key.cols() * BF16_BYTES);
        if (key.batch() > 0 && key.rows() > 0 && key.cols() > 0) {
            Conversion c = conversions.computeIfAbsent(key, Bf16Gemm::conversion);
            OneDnn.execute(c.primitive(), new int[] {DNNL_ARG_FROM, DNNL_ARG_TO},
                    new dnnl_memory_desc[] {c.from(), c.to()}, new Pointer[] {address(t, off), dst});
        }
        return dst;
    }

    /**
     * {@code batch} products C_i = alpha · op(A_i) · op(B_i) (+ C_i), as cblas_sgemm's arguments
     * with each problem's A, B and C {@code stride*} floats after the last one's: the strided
     * batches of attention (an image's heads, a head's images). A and B are converted into
     * slots 0 and 1, all their matrices in one conversion each, and one matmul runs the batch.
     */
    void multiplyBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long aOff,
                         int lda, long strideA, Tensor b, long bOff, int ldb, long strideB, boolean accumulate,
                         Tensor c, long cOff, int ldc, long strideC, int batch) {
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            matmuls.run(new OneDnnMatmuls.Shape(dnnl_bf16, batch, m, n, 0, transA, transB, 1, 0, 1, 0, ldc, strideC,
                    alpha, accumulate, false, false), null, null, null, null, c, cOff);
            return;
        }
        Pointer left = convert(a, aOff, transA ? new ConversionKey(batch, k, m, lda, strideA)
                : new ConversionKey(batch, m, k, lda, strideA), 0);
        Pointer right = convert(b, bOff, transB ? new ConversionKey(batch, n, k, ldb, strideB)
                : new ConversionKey(batch, k, n, ldb, strideB), 1);
        // the converted operands are dense, in their stored orientation
        matmuls.run(new OneDnnMatmuls.Shape(dnnl_bf16, batch, m, n, k, transA, transB, transA ? m : k, (long) m * k,
                transB ? k : n, (long) k * n, ldc, strideC, alpha, accumulate, false, false), left, right, null, null, c,
                cOff);
    }

    /**
     * y [rows, out] = x [rows, in] · Wᵀ + bias (+ residual [rows, out]), W [out, in] with row
     * stride ldw, x with row stride ldx: a linear layer's forward, the bias and the residual
     * added in fp32 as oneDNN writes the product (y written once, where prefilling it with them
     * and accumulating wrote it twice and read it once). Converts x into slot 0 and W into slot 1.
     */
    void linear(Tensor x, long xOff, int ldx, Tensor w, int ldw, Tensor bias, Tensor residual, Tensor y, int rows,
                int in, int out) {
        if (rows == 0 || out == 0) {
            return;
        }
        Converted xb = convert(x, xOff, rows, in, ldx, 0);
        Converted wb = convert(w, 0, out, in, ldw, 1);
        matmuls.run(new OneDnnMatmuls.Shape(dnnl_bf16, 1, rows, out, in, false, true, in, 0, in, 0, out, 0, 1f, false,
                true, residual != null), xb.data(), wb.data(), address(bias, 0),
                residual == null ? null : address(residual, 0), y, 0);
    }

    /**
     * C [m, n] = op(A) · op(B) (+ C) for converted operands: A holds [m, k], or [k, m] when
     * {@code transA}; B holds [k, n], or [n, k] when {@code transB}.
     */
    void multiply(Converted a, boolean transA, Converted b, boolean transB, boolean accumulate, Tensor c, long cOff,
                  int ldc) {
        int m = transA ? a.cols() : a.rows();
        int k = transA ? a.rows() : a.cols();
        int n = transB ? b.rows() : b.cols();
        int kb = transB ? b.cols() : b.rows();
        if (k != kb) {
            throw new IllegalArgumentException("bf16 product: op(A) is " + m + "x" + k + ", op(B) " + kb + "x" + n);
        }
        multiply(a, transA, b, transB, m, n, k, accumulate, c, cOff, ldc);
    }

    private void multiply(Converted a, boolean transA, Converted b, boolean transB, int m, int n, int k,
                          boolean accumulate, Tensor c, long cOff, int ldc) {
        matmuls.run(dense(m, n, k, transA, transB, ldc, accumulate), a == null ? null : a.data(),
                b == null ? null : b.data(), null, null, c, cOff);
    }

    /** One product of converted operands: dense, in their stored orientation. */
    private static OneDnnMatmuls.Shape dense(int m, int n, int k, boolean transA, boolean transB, int ldc,
                                             boolean accumulate) {
        return new OneDnnMatmuls.Shape(dnnl_bf16, 1, m, n, k, transA, transB, transA ? m : k, 0, transB ? k : n, 0,
                ldc, 0, 1f, accumulate, false, false);
    }

    /** The oneDNN implementation that runs this product shape ("brg_matmul:avx512_core_amx" and so on). */
    String implementation(int m, int n, int k, boolean transA, boolean transB, boolean accumulate) {
        return matmuls.implementation(dense(m, n, k, transA, transB, n, accumulate));
    }

    @Override
    public void close() {
        conversions.values().forEach(Conversion::destroy);
        conversions.clear();
        matmuls.close();
    }

    private static Conversion conversion(ConversionKey key) {
        long dense = (long) key.rows() * key.cols();
        dnnl_memory_desc from = OneDnnMatmuls.batched(dnnl_f32, key.batch(), key.rows(), key.cols(), key.stride(),
                key.ld(), 1);
        dnnl_memory_desc to = OneDnnMatmuls.batched(dnnl_bf16, key.batch(), key.rows(), key.cols(), dense, key.cols(),
                1);
        dnnl_primitive_attr attr = OneDnn.userScratchpad();
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        try {
            String what = "fp32 " + key.batch() + " x [" + key.rows() + ", " + key.cols() + "] to bf16";
            OneDnn.check(dnnl_reorder_primitive_desc_create(pd, from, OneDnn.engine(), to, OneDnn.engine(), attr),
                    what);
            return new Conversion(OneDnn.Primitive.of(pd, what), from, to);
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_attr_destroy(attr);
        }
    }

    private static Pointer address(Tensor t, long offset) {
        return OneDnnMatmuls.address(t, offset);
    }
}
