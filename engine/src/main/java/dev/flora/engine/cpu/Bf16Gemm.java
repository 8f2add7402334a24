package dev.flora.engine.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_binary_add;
import static org.bytedeco.dnnl.global.dnnl.dnnl_data_type_undef;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_linear;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_binary;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_eltwise;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_sum;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_post_ops;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_impl_info_str;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reorder_primitive_desc_create;

import dev.flora.engine.tensor.HostStorage;
import dev.flora.engine.tensor.Tensor;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * C = op(A) · op(B) (+ C) on fp32 tensors with both operands rounded to bf16 and the products
 * accumulated in fp32 by oneDNN's matmul: the matrix products of mixed-precision training.
 * Unlike {@link OneDnnLinears}, nothing of the operands is kept between calls, since in training
 * the weights change with every step: each operand is converted to bf16 in one of this thread's
 * buffers ({@link #convert}), dense and in the orientation it is stored in, and the matmul reads
 * it transposed where the product needs it so. A caller whose two products share an operand
 * (a layer's backward reads dy twice) converts it once. The conversions cost one pass over each
 * operand, small beside the product at the row counts training runs. The primitives are made
 * once per shape and shared by all threads.
 */
final class Bf16Gemm implements AutoCloseable {
    /** Operands one product or backward holds converted at once (a low-rank backward, four). */
    static final int SLOTS = 4;
    private static final int BF16_BYTES = 2;
    /** The residual's argument: the source of the first post-op, a binary add. */
    private static final int RESIDUAL_ARG = DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE | DNNL_ARG_SRC_1;
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

    /**
     * One product: C [m, n] = alpha · op(A) [m, k] · op(B) [k, n] (+ C), C with row stride ldc,
     * for {@code batch} problems whose C's start strideC floats apart.
     */
    private record ProductKey(int batch, int m, int n, int k, boolean transA, boolean transB, int ldc, long strideC,
                              float alpha, boolean accumulate, boolean bias, boolean residual) {
    }

    /** A conversion to dense bf16 and the descriptors it reads and writes. */
    private record Conversion(OneDnn.Primitive primitive, dnnl_memory_desc from, dnnl_memory_desc to) {
        void destroy() {
            primitive.destroy();
            dnnl_memory_desc_destroy(from);
            dnnl_memory_desc_destroy(to);
        }
    }

    /** A product's primitive and its operands' descriptors. */
    private record Product(OneDnn.Primitive primitive, dnnl_memory_desc a, dnnl_memory_desc b, dnnl_memory_desc c,
                           dnnl_memory_desc bias, dnnl_memory_desc residual, String implementation) {
        void destroy() {
            primitive.destroy();
            for (dnnl_memory_desc md : new dnnl_memory_desc[] {a, b, c, bias, residual}) {
                if (md != null) {
                    dnnl_memory_desc_destroy(md);
                }
            }
        }
    }

    private final ConcurrentHashMap<ConversionKey, Conversion> conversions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<ProductKey, Product> products = new ConcurrentHashMap<>();

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
            for (int i = 0; i < batch; i++) {
                multiply(null, transA, null, transB, m, n, 0, accumulate, c, cOff + i * strideC, ldc);
            }
            return;
        }
        Pointer left = convert(a, aOff, transA ? new ConversionKey(batch, k, m, lda, strideA)
                : new ConversionKey(batch, m, k, lda, strideA), 0);
        Pointer right = convert(b, bOff, transB ? new ConversionKey(batch, n, k, ldb, strideB)
                : new ConversionKey(batch, k, n, ldb, strideB), 1);
        run(new ProductKey(batch, m, n, k, transA, transB, ldc, strideC, alpha, accumulate, false, false), left, right,
                null, null, c, cOff);
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
        run(new ProductKey(1, rows, out, in, false, true, out, 0, 1f, false, true, residual != null), xb.data(),
                wb.data(), address(bias, 0), residual == null ? null : address(residual, 0), y, 0);
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
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            if (!accumulate) {
                float[] zeros = new float[n];
                for (int i = 0; i < m; i++) {
                    CpuBackend.buf(c).put(CpuBackend.base(c) + (int) (cOff + (long) i * ldc), zeros);
                }
            }
            return;
        }
        run(new ProductKey(1, m, n, k, transA, transB, ldc, 0, 1f, accumulate, false, false), a.data(), b.data(), null,
                null, c, cOff);
    }

    /** One product; bias and residual are null where the key has none. */
    private void run(ProductKey key, Pointer a, Pointer b, Pointer bias, Pointer residual, Tensor c, long cOff) {
        Product p = product(key);
        if (bias == null && residual == null) {
            OneDnn.execute(p.primitive(), new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                    new dnnl_memory_desc[] {p.a(), p.b(), p.c()}, new Pointer[] {a, b, address(c, cOff)});
        } else if (residual == null) {
            OneDnn.execute(p.primitive(), new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST},
                    new dnnl_memory_desc[] {p.a(), p.b(), p.bias(), p.c()}, new Pointer[] {a, b, bias, address(c, cOff)});
        } else {
            OneDnn.execute(p.primitive(),
                    new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, RESIDUAL_ARG, DNNL_ARG_DST},
                    new dnnl_memory_desc[] {p.a(), p.b(), p.bias(), p.residual(), p.c()},
                    new Pointer[] {a, b, bias, residual, address(c, cOff)});
        }
    }

    /** The oneDNN implementation that runs this product shape ("brg_matmul:avx512_core_amx" and so on). */
    String implementation(int m, int n, int k, boolean transA, boolean transB, boolean accumulate) {
        return product(new ProductKey(1, m, n, k, transA, transB, n, 0, 1f, accumulate, false, false)).implementation();
    }

    @Override
    public void close() {
        conversions.values().forEach(Conversion::destroy);
        conversions.clear();
        products.values().forEach(Product::destroy);
        products.clear();
    }

    private Product product(ProductKey key) {
        return products.computeIfAbsent(key, Bf16Gemm::create);
    }

    private static Conversion conversion(ConversionKey key) {
        long dense = (long) key.rows() * key.cols();
        dnnl_memory_desc from = batched(dnnl_f32, key.batch(), key.rows(), key.cols(), key.stride(), key.ld(), 1);
        dnnl_memory_desc to = batched(dnnl_bf16, key.batch(), key.rows(), key.cols(), dense, key.cols(), 1);
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

    private static Product create(ProductKey key) {
        // a transposed operand is the dense matrix of the other orientation, read with swapped strides
        int batch = key.batch();
        long aSize = (long) key.m() * key.k();
        long bSize = (long) key.k() * key.n();
        dnnl_memory_desc a = key.transA() ? batched(dnnl_bf16, batch, key.m(), key.k(), aSize, 1, key.m())
                : batched(dnnl_bf16, batch, key.m(), key.k(), aSize, key.k(), 1);
        dnnl_memory_desc b = key.transB() ? batched(dnnl_bf16, batch, key.k(), key.n(), bSize, 1, key.k())
                : batched(dnnl_bf16, batch, key.k(), key.n(), bSize, key.n(), 1);
        dnnl_memory_desc c = batched(dnnl_f32, batch, key.m(), key.n(), key.strideC(), key.ldc(), 1);
        dnnl_memory_desc bias = key.bias() ? OneDnn.matrix(dnnl_f32, 1, key.n(), key.n(), 1) : null;
        dnnl_memory_desc residual = key.residual() ? OneDnn.matrix(dnnl_f32, key.m(), key.n(), key.ldc(), 1) : null;
        dnnl_primitive_attr attr = OneDnn.userScratchpad();
        dnnl_post_ops postOps = null;
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        try {
            if (key.accumulate() || key.alpha() != 1f || residual != null) {
                postOps = new dnnl_post_ops();
                OneDnn.check(dnnl_post_ops_create(postOps), "post-ops create");
                if (residual != null) {
                    OneDnn.check(dnnl_post_ops_append_binary(postOps, dnnl_binary_add, residual), "residual post-op");
                }
                if (key.alpha() != 1f) { // alpha scales the product, before C's old values are added
                    OneDnn.check(dnnl_post_ops_append_eltwise(postOps, dnnl_eltwise_linear, key.alpha(), 0f),
                            "alpha post-op");
                }
                if (key.accumulate()) {
                    OneDnn.check(dnnl_post_ops_append_sum(postOps, 1f, 0, dnnl_data_type_undef), "sum post-op");
                }
                OneDnn.check(dnnl_primitive_attr_set_post_ops(attr, postOps), "post-ops");
            }
            String what = "bf16 matmul " + batch + " x [" + key.m() + ", " + key.k() + "]" + (key.transA() ? "ᵀ" : "")
                    + " x [" + key.k() + ", " + key.n() + "]" + (key.transB() ? "ᵀ" : "");
            OneDnn.check(dnnl_matmul_primitive_desc_create(pd, OneDnn.engine(), a, b, bias, c, attr), what);
            return new Product(OneDnn.Primitive.of(pd, what), a, b, c, bias, residual, implementationOf(pd));
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_attr_destroy(attr);
            if (postOps != null) {
                dnnl_post_ops_destroy(postOps);
            }
        }
    }

    /**
     * A matrix, or with {@code batch} above 1 a stack of them {@code stride} elements apart: the
     * product's single-problem shapes stay the 2-D descriptors they were.
     */
    private static dnnl_memory_desc batched(int type, int batch, long rows, long cols, long stride, long rowStride,
                                            long colStride) {
        return batch == 1 ? OneDnn.matrix(type, rows, cols, rowStride, colStride)
                : OneDnn.tensor(type, new long[] {batch, rows, cols}, new long[] {stride, rowStride, colStride});
    }

    private static String implementationOf(dnnl_primitive_desc pd) {
        PointerPointer<BytePointer> out = new PointerPointer<>(1);
        try {
            OneDnn.check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, out), "implementation query");
            return out.get(BytePointer.class, 0).getString();
        } finally {
            out.close();
        }
    }

    private static Pointer address(Tensor t, long offset) {
        return OneDnn.at(((HostStorage) t.storage()).pointerAt(t.offset() + offset));
    }
}
