package dev.flora.engine.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_binary_add;
import static org.bytedeco.dnnl.global.dnnl.dnnl_bf16;
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
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_impl_info_str;

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
 * oneDNN matmul primitives for the training backends, one per {@link Shape} (sizes, strides,
 * number format, post-ops), made once and shared by all threads: C = alpha · op(A) · op(B)
 * (+ bias) (+ residual) (+ C) over a strided batch of problems, C in fp32. {@link Bf16Gemm} runs
 * them on operands it converted to bf16; fp32 training runs attention's strided batches on them
 * in place ({@link #fp32Batch}), where OpenBLAS, one small sgemm per (image, head), ran slower.
 *
 * <p>A batch whose problems have a dimension of 1 (the class-token tail's, k = 1 or m = 1) is
 * not for these: with k = 1, rows wider than the matrices and gaps between the problems, oneDNN
 * 3.11's batched fp32 matmul gave wrong products (against OpenBLAS; not tried in bf16, which
 * stays off them too); oneDNN's pull request 6015 (the copy of B with K == 1 taking the wrong
 * stride) fixed a bug of that kind after 3.11. {@link #handles} says which batches are for these.
 */
final class OneDnnMatmuls implements AutoCloseable {
    /** The residual's argument: the source of the first post-op, a binary add. */
    private static final int RESIDUAL_ARG = DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE | DNNL_ARG_SRC_1;

    /**
     * {@code batch} products C_i [m, n] = alpha · op(A_i) [m, k] · op(B_i) [k, n] (+ bias) (+ residual)
     * (+ C_i) with A and B of data type {@code type} (a dnnl data type), stored as cblas_sgemm
     * takes them (A [m, k] with row stride lda, or [k, m] when transA; B likewise) and each
     * problem's A, B and C {@code stride*} elements after the last one's; the bias [n] and the
     * residual [m, n] (row stride ldc) are fp32, one problem only (batch 1).
     */
    record Shape(int type, int batch, int m, int n, int k, boolean transA, boolean transB, int lda, long strideA,
                 int ldb, long strideB, int ldc, long strideC, float alpha, boolean accumulate, boolean bias,
                 boolean residual) {
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

    private final ConcurrentHashMap<Shape, Product> products = new ConcurrentHashMap<>();

    /**
     * The product of this shape on the calling thread's OpenMP threads; bias and residual are
     * null where the shape has none. With k = 0 there is nothing to multiply: C is zeroed unless
     * it accumulates (oneDNN takes no empty reduction).
     */
    void run(Shape s, Pointer a, Pointer b, Pointer bias, Pointer residual, Tensor c, long cOff) {
        if (s.batch() == 0 || s.m() == 0 || s.n() == 0) {
            return;
        }
        if (s.k() == 0) {
            if (!s.accumulate()) {
                float[] zeros = new float[s.n()];
                for (int i = 0; i < s.batch(); i++) {
                    for (int r = 0; r < s.m(); r++) {
                        CpuBackend.buf(c).put(Math.toIntExact(CpuBackend.base(c) + cOff + i * s.strideC()
                                + (long) r * s.ldc()), zeros);
                    }
                }
            }
            return;
        }
        Product p = products.computeIfAbsent(s, OneDnnMatmuls::create);
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

    /**
     * A strided batch in fp32, read and written in place, as cblas_sgemm's arguments at float
     * offsets (beta 0, or 1 with {@code accumulate}): attention's products in fp32 training.
     */
    void fp32Batch(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long aOff, int lda,
                   long strideA, Tensor b, long bOff, int ldb, long strideB, boolean accumulate, Tensor c, long cOff,
                   int ldc, long strideC, int batch) {
        run(new Shape(dnnl_f32, batch, m, n, k, transA, transB, lda, strideA, ldb, strideB, ldc, strideC, alpha,
                accumulate, false, false), address(a, aOff), address(b, bOff), null, null, c, cOff);
    }

    /**
     * Whether a strided batch of these sizes runs here: every dimension above 1, or a single
     * problem (see the class comment).
     */
    static boolean handles(int m, int n, int k, int batch) {
        return batch == 1 || m > 1 && n > 1 && k > 1;
    }

    /** The oneDNN implementation that runs this shape ("brg_matmul:avx512_core_amx" and so on). */
    String implementation(Shape s) {
        return products.computeIfAbsent(s, OneDnnMatmuls::create).implementation();
    }

    @Override
    public void close() {
        products.values().forEach(Product::destroy);
        products.clear();
    }

    private static Product create(Shape s) {
        int batch = s.batch();
        // a transposed operand is read through swapped strides
        dnnl_memory_desc a = s.transA() ? batched(s.type(), batch, s.m(), s.k(), s.strideA(), 1, s.lda())
                : batched(s.type(), batch, s.m(), s.k(), s.strideA(), s.lda(), 1);
        dnnl_memory_desc b = s.transB() ? batched(s.type(), batch, s.k(), s.n(), s.strideB(), 1, s.ldb())
                : batched(s.type(), batch, s.k(), s.n(), s.strideB(), s.ldb(), 1);
        dnnl_memory_desc c = batched(dnnl_f32, batch, s.m(), s.n(), s.strideC(), s.ldc(), 1);
        dnnl_memory_desc bias = s.bias() ? OneDnn.matrix(dnnl_f32, 1, s.n(), s.n(), 1) : null;
        dnnl_memory_desc residual = s.residual() ? OneDnn.matrix(dnnl_f32, s.m(), s.n(), s.ldc(), 1) : null;
        dnnl_primitive_attr attr = OneDnn.userScratchpad();
        dnnl_post_ops postOps = null;
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        try {
            if (s.accumulate() || s.alpha() != 1f || residual != null) {
                postOps = new dnnl_post_ops();
                OneDnn.check(dnnl_post_ops_create(postOps), "post-ops create");
                if (residual != null) {
                    OneDnn.check(dnnl_post_ops_append_binary(postOps, dnnl_binary_add, residual), "residual post-op");
                }
                if (s.alpha() != 1f) { // alpha scales the product, before C's old values are added
                    OneDnn.check(dnnl_post_ops_append_eltwise(postOps, dnnl_eltwise_linear, s.alpha(), 0f),
                            "alpha post-op");
                }
                if (s.accumulate()) {
                    OneDnn.check(dnnl_post_ops_append_sum(postOps, 1f, 0, dnnl_data_type_undef), "sum post-op");
                }
                OneDnn.check(dnnl_primitive_attr_set_post_ops(attr, postOps), "post-ops");
            }
            String what = (s.type() == dnnl_bf16 ? "bf16" : "fp32") + " matmul " + batch + " x [" + s.m() + ", "
                    + s.k() + "]" + (s.transA() ? "ᵀ" : "") + " x [" + s.k() + ", " + s.n() + "]"
                    + (s.transB() ? "ᵀ" : "");
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
     * A matrix, or with {@code batch} above 1 a stack of them {@code stride} elements apart:
     * single problems keep 2-D descriptors.
     */
    static dnnl_memory_desc batched(int type, int batch, long rows, long cols, long stride, long rowStride,
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

    static Pointer address(Tensor t, long offset) {
        return OneDnn.at(((HostStorage) t.storage()).pointerAt(t.offset() + offset));
    }
}
