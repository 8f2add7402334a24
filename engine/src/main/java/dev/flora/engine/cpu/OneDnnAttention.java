package dev.flora.engine.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_linear;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_eltwise;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_post_ops;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;

import dev.flora.engine.tensor.HostStorage;
import dev.flora.engine.tensor.Tensor;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.Pointer;

/**
 * Attention's two products for inference through oneDNN's batched fp32 matmul: S = scale·Q·Kᵀ
 * and ctx = softmax(S)·V for an image's heads in one call each, q, k and v read in
 * place from qkv through strides and the context written straight into ctx's [tokens,
 * heads·headDim] layout. At DeiT shapes (197 tokens, 64 per head) the per-(image, head) sgemm
 * calls of the path that trains are too small for OpenBLAS to get near its peak.
 *
 * <p>The work is split as {@link OneDnnLinears#inRowBlocks} splits a product's rows: outside a
 * batch's lanes in two halves (of the images, or of one image's heads) on the calling thread
 * and the helper, each single-threaded in oneDNN; inside a lane whole, on the lane's thread.
 * The softmax between the two products is the caller's, on each half's rows.
 */
final class OneDnnAttention implements AutoCloseable {
    /** Softmax over rows [from, to) of the scores, in place. */
    @FunctionalInterface
    interface RowSoftmax {
        void rows(int from, int to);
    }

    /** One call's shape (one image): the heads in it, and the layout's own sizes (for the strides). */
    private record Shape(int callHeads, int tokens, int heads, int headDim, float scale) {
    }

    private record Step(OneDnn.Primitive primitive, dnnl_memory_desc[] descriptors) {
        void run(Pointer src, Pointer weights, Pointer dst) {
            OneDnn.execute(primitive, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST}, descriptors,
                    new Pointer[] {src, weights, dst});
        }

        void destroy() {
            primitive.destroy();
            for (dnnl_memory_desc md : descriptors) {
                dnnl_memory_desc_destroy(md);
            }
        }
    }

    private record Plan(Step scores, Step context) {
    }

    private final ConcurrentHashMap<Shape, Plan> plans = new ConcurrentHashMap<>();

    /**
     * probs [batch·heads, tokens, tokens] = softmax(scale·q·kᵀ) and ctx [batch, tokens,
     * heads·headDim] = probs·v, with q, k, v the three thirds of each row of qkv [batch, tokens,
     * 3·heads·headDim].
     */
    void forward(Tensor qkv, Tensor probs, Tensor ctx, int batch, int tokens, int heads, int headDim, float scale,
                 RowSoftmax softmax) {
        if (batch >= 2) {
            OneDnnLinears.inRowBlocks(batch, (lo, hi) -> run(qkv, probs, ctx, lo, hi, 0, heads, tokens, heads,
                    headDim, scale, softmax));
        } else {
            OneDnnLinears.inRowBlocks(heads, (lo, hi) -> run(qkv, probs, ctx, 0, 1, lo, hi, tokens, heads, headDim,
                    scale, softmax));
        }
    }

    /**
     * Images [b0, b1) and heads [h0, h1) of the batch, on the calling thread, one image at a
     * time: an image's scores (six heads of DeiT-S: 0.9 MB) stay in cache from the product that
     * writes them through the softmax to the product that reads them, where a lane's sixteen
     * images at once would go through memory three times.
     */
    private void run(Tensor qkv, Tensor probs, Tensor ctx, int b0, int b1, int h0, int h1, int tokens, int heads,
                     int headDim, float scale, RowSoftmax softmax) {
        Plan plan = plans.computeIfAbsent(new Shape(h1 - h0, tokens, heads, headDim, scale), OneDnnAttention::plan);
        long t = tokens;
        long dim = (long) heads * headDim;
        for (int b = b0; b < b1; b++) {
            long q = b * t * 3 * dim + (long) h0 * headDim;
            long p = ((long) b * heads + h0) * t * t;
            plan.scores().run(address(qkv, q), address(qkv, q + dim), address(probs, p));
            for (int h = h0; h < h1; h++) { // one head at a time, as the kernels' scratch expects
                int first = (b * heads + h) * tokens;
                softmax.rows(first, first + tokens);
            }
            plan.context().run(address(probs, p), address(qkv, q + 2 * dim),
                    address(ctx, b * t * dim + (long) h0 * headDim));
        }
    }

    @Override
    public void close() {
        plans.values().forEach(p -> {
            p.scores().destroy();
            p.context().destroy();
        });
        plans.clear();
    }

    private static Plan plan(Shape s) {
        long b = 1; // one image per call (see run)
        long h = s.callHeads();
        long t = s.tokens();
        long d = s.headDim();
        long dim = (long) s.heads() * d;
        long row = 3 * dim;
        // (image, head, i, j) of q, k or v at image·t·row + i·row + head·d + j, from the call's first
        long[] perHead = {b, h, t, d};
        long[] partStrides = {t * row, d, row, 1};
        long[] probsStrides = {(long) s.heads() * t * t, t * t, t, 1};
        Step scores = matmul(tensor(perHead, partStrides),
                tensor(new long[] {b, h, d, t}, new long[] {t * row, d, 1, row}),
                tensor(new long[] {b, h, t, t}, probsStrides), s.scale(), "attention scores");
        Step context = matmul(tensor(new long[] {b, h, t, t}, probsStrides), tensor(perHead, partStrides),
                tensor(perHead, new long[] {t * dim, d, dim, 1}), 1f, "attention context");
        return new Plan(scores, context);
    }

    private static dnnl_memory_desc tensor(long[] dims, long[] strides) {
        return OneDnn.tensor(dnnl_f32, dims, strides);
    }

    /** dst = scale·src·weights, batched over the two leading dimensions. */
    private static Step matmul(dnnl_memory_desc src, dnnl_memory_desc weights, dnnl_memory_desc dst, float scale,
                               String what) {
        dnnl_primitive_attr attr = OneDnn.userScratchpad();
        dnnl_post_ops postOps = null;
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        try {
            if (scale != 1f) {
                postOps = new dnnl_post_ops();
                OneDnn.check(dnnl_post_ops_create(postOps), "post-ops create");
                OneDnn.check(dnnl_post_ops_append_eltwise(postOps, dnnl_eltwise_linear, scale, 0f), "scale post-op");
                OneDnn.check(dnnl_primitive_attr_set_post_ops(attr, postOps), "post-ops");
            }
            OneDnn.check(dnnl_matmul_primitive_desc_create(pd, OneDnn.engine(), src, weights, null, dst, attr), what);
            return new Step(OneDnn.Primitive.of(pd, what), new dnnl_memory_desc[] {src, weights, dst});
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_attr_destroy(attr);
            if (postOps != null) {
                dnnl_post_ops_destroy(postOps);
            }
        }
    }

    private static Pointer address(Tensor t, long offset) {
        return OneDnn.at(((HostStorage) t.storage()).pointerAt(t.offset() + offset));
    }
}
