package dev.flora.engine.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_data_type_undef;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
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
 * Unlike {@link Bf16Matmuls}, nothing of the operands is kept between calls, since in training
 * the weights change with every step: each call converts both operands to row-major bf16 in
 * this thread's buffers (a transposed operand is transposed by that conversion, so the matmul
 * always reads the layout it runs fastest) and multiplies. The conversions cost one pass over
 * each operand, small beside the product at the row counts training runs. The primitives are
 * made once per shape and shared by all threads.
 */
final class Bf16Gemm implements AutoCloseable {
    private static final int BF16_BYTES = 2;
    private static final ThreadLocal<OneDnn.AlignedBuffer> LEFT = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);
    private static final ThreadLocal<OneDnn.AlignedBuffer> RIGHT = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);

    /** An fp32 operand's shape and layout: rows × cols, element (i, j) at i·ld + j, or j·ld + i when transposed. */
    private record OperandKey(int rows, int cols, int ld, boolean transposed) {
    }

    private record ProductKey(int m, int n, int k, int ldc, boolean accumulate) {
    }

    /** A conversion to row-major bf16 and the descriptors it reads and writes. */
    private record Conversion(OneDnn.Primitive primitive, dnnl_memory_desc from, dnnl_memory_desc to) {
        void destroy() {
            primitive.destroy();
            dnnl_memory_desc_destroy(from);
            dnnl_memory_desc_destroy(to);
        }
    }

    /** A product's primitive and its operands' descriptors. */
    private record Product(OneDnn.Primitive primitive, dnnl_memory_desc a, dnnl_memory_desc b, dnnl_memory_desc c,
                           String implementation) {
        void destroy() {
            primitive.destroy();
            dnnl_memory_desc_destroy(a);
            dnnl_memory_desc_destroy(b);
            dnnl_memory_desc_destroy(c);
        }
    }

    private final ConcurrentHashMap<OperandKey, Conversion> conversions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<ProductKey, Product> products = new ConcurrentHashMap<>();

    /**
     * C [m, n] (at cOff, row stride ldc) = op(A) [m, k] · op(B) [k, n], plus C's old values when
     * {@code accumulate}; A, B and C are fp32 at the given float offsets, as in cblas_sgemm.
     */
    void multiply(boolean transA, boolean transB, int m, int n, int k, Tensor a, long aOff, int lda, Tensor b,
                  long bOff, int ldb, boolean accumulate, Tensor c, long cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    CpuBackend.buf(c).put(CpuBackend.base(c) + (int) (cOff + (long) i * ldc), new float[n]);
                }
            }
            return;
        }
        Pointer left = toBf16(new OperandKey(m, k, lda, transA), address(a, aOff), LEFT.get());
        Pointer right = toBf16(new OperandKey(k, n, ldb, transB), address(b, bOff), RIGHT.get());
        Product p = products.computeIfAbsent(new ProductKey(m, n, k, ldc, accumulate), Bf16Gemm::create);
        OneDnn.execute(p.primitive(), new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                new dnnl_memory_desc[] {p.a(), p.b(), p.c()}, new Pointer[] {left, right, address(c, cOff)});
    }

    /** The oneDNN implementation that runs this product shape ("brg_matmul:avx512_core_amx" and so on). */
    String implementation(int m, int n, int k, int ldc, boolean accumulate) {
        return products.computeIfAbsent(new ProductKey(m, n, k, ldc, accumulate), Bf16Gemm::create).implementation();
    }

    @Override
    public void close() {
        conversions.values().forEach(Conversion::destroy);
        conversions.clear();
        products.values().forEach(Product::destroy);
        products.clear();
    }

    private Pointer toBf16(OperandKey key, Pointer source, OneDnn.AlignedBuffer buffer) {
        Conversion c = conversions.computeIfAbsent(key, Bf16Gemm::conversion);
        Pointer dst = buffer.atLeast((long) key.rows() * key.cols() * BF16_BYTES);
        OneDnn.execute(c.primitive(), new int[] {DNNL_ARG_FROM, DNNL_ARG_TO},
                new dnnl_memory_desc[] {c.from(), c.to()}, new Pointer[] {source, dst});
        return dst;
    }

    private static Conversion conversion(OperandKey key) {
        dnnl_memory_desc from = key.transposed()
                ? OneDnn.matrix(dnnl_f32, key.rows(), key.cols(), 1, key.ld())
                : OneDnn.matrix(dnnl_f32, key.rows(), key.cols(), key.ld(), 1);
        dnnl_memory_desc to = rowMajorBf16(key.rows(), key.cols());
        dnnl_primitive_attr attr = OneDnn.userScratchpad();
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        try {
            String what = "fp32 [" + key.rows() + ", " + key.cols() + "] to bf16";
            OneDnn.check(dnnl_reorder_primitive_desc_create(pd, from, OneDnn.engine(), to, OneDnn.engine(), attr),
                    what);
            return new Conversion(OneDnn.Primitive.of(pd, what), from, to);
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_attr_destroy(attr);
        }
    }

    private static Product create(ProductKey key) {
        dnnl_memory_desc a = rowMajorBf16(key.m(), key.k());
        dnnl_memory_desc b = rowMajorBf16(key.k(), key.n());
        dnnl_memory_desc c = OneDnn.matrix(dnnl_f32, key.m(), key.n(), key.ldc(), 1);
        dnnl_primitive_attr attr = OneDnn.userScratchpad();
        dnnl_post_ops postOps = null;
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        try {
            if (key.accumulate()) {
                postOps = new dnnl_post_ops();
                OneDnn.check(dnnl_post_ops_create(postOps), "post-ops create");
                OneDnn.check(dnnl_post_ops_append_sum(postOps, 1f, 0, dnnl_data_type_undef), "sum post-op");
                OneDnn.check(dnnl_primitive_attr_set_post_ops(attr, postOps), "post-ops");
            }
            String what = "bf16 matmul [" + key.m() + ", " + key.k() + "] x [" + key.k() + ", " + key.n() + "]";
            OneDnn.check(dnnl_matmul_primitive_desc_create(pd, OneDnn.engine(), a, b, null, c, attr), what);
            return new Product(OneDnn.Primitive.of(pd, what), a, b, c, implementationOf(pd));
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_attr_destroy(attr);
            if (postOps != null) {
                dnnl_post_ops_destroy(postOps);
            }
        }
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

    private static dnnl_memory_desc rowMajorBf16(int rows, int cols) {
        return OneDnn.matrix(dnnl_bf16, rows, cols, cols, 1);
    }

    private static Pointer address(Tensor t, long offset) {
        return OneDnn.at(((HostStorage) t.storage()).pointerAt(t.offset() + offset));
    }
}
