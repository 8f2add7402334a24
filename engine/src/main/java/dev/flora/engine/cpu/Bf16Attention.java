package dev.flora.engine.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_bf16;
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
import static org.bytedeco.dnnl.global.dnnl.dnnl_reorder_primitive_desc_create;

import dev.flora.engine.tensor.HostStorage;
import dev.flora.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.Pointer;

/**
 * Attention's two products in bf16 for inference: S = scale · Q·Kᵀ and ctx = softmax(S)·V for
 * every (image, head) of a batch at once, the operands rounded to bf16 and the products
 * accumulated in fp32 by oneDNN's batched matmul. At DeiT shapes (197 tokens, 64 per head) the
 * fp32 path runs 2×197×197×64 MACs per (image, head) through sgemm calls too small for the BLAS
 * to reach its peak, and in bf16 mode the linear layers around it get twice as fast, so attention
 * becomes the largest fixed cost of a bf16 forward.
 *
 * <p>One forward is four oneDNN calls and the caller's softmax: qkv of the whole batch converted
 * to bf16 as it lies (the products read each head's q, k and v through strides, which oneDNN's
 * brgemm kernels take as they are), the scores written in fp32 into {@code probs} with the scale applied as the
 * product's post-op, the softmax in fp32 in place, the probabilities converted to bf16, and the
 * context written in fp32 straight into ctx's [tokens, heads·headDim] layout. The primitives are
 * made once per shape and shared by all threads; the bf16 operands live in the calling thread's
 * buffers.
 */
final class Bf16Attention implements AutoCloseable {
    private static final int BF16_BYTES = 2;
    private static final ThreadLocal<OneDnn.AlignedBuffer> QKV = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);
    private static final ThreadLocal<OneDnn.AlignedBuffer> PROBS = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);

    /** The softmax over rows [from, to) of the scores, in place (the caller's fp32 kernel). */
    @FunctionalInterface
    interface RowSoftmax {
        void rows(int from, int to);
    }

    private record Shape(int batch, int tokens, int heads, int headDim, float scale) {
    }

    /** One oneDNN call: its primitive and the descriptors of its arguments, in order. */
    private record Step(OneDnn.Primitive primitive, int[] args, dnnl_memory_desc[] descriptors) {
        void run(Pointer... data) {
            OneDnn.execute(primitive, args, descriptors, data);
        }

        void destroy() {
            primitive.destroy();
            for (dnnl_memory_desc md : descriptors) {
                dnnl_memory_desc_destroy(md);
            }
        }
    }

    /** The four calls of one shape. */
    private record Plan(Step qkvToBf16, Step scores, Step probsToBf16, Step context, long qkvBytes,
                        long probsBytes, long partBytes) {
        List<Step> steps() {
            return List.of(qkvToBf16, scores, probsToBf16, context);
        }
    }

    private final ConcurrentHashMap<Shape, Plan> plans = new ConcurrentHashMap<>();

    /**
     * probs [batch·heads, tokens, tokens] = softmax(scale · q·kᵀ) and ctx [batch, tokens,
     * heads·headDim] = probs · v, with q, k, v the three thirds of each row of qkv [batch, tokens,
     * 3·heads·headDim]; {@code softmax} normalises rows of probs in place.
     */
    void forward(Tensor qkv, Tensor probs, Tensor ctx, int batch, int tokens, int heads, int headDim, float scale,
                 RowSoftmax softmax) {
        Plan plan = plans.computeIfAbsent(new Shape(batch, tokens, heads, headDim, scale), Bf16Attention::plan);
        Pointer qkvB = QKV.get().atLeast(plan.qkvBytes());
        Pointer probsB = PROBS.get().atLeast(plan.probsBytes());
        Pointer q = qkvB;
        Pointer k = OneDnn.at(qkvB.address() + plan.partBytes());
        Pointer v = OneDnn.at(qkvB.address() + 2 * plan.partBytes());
        plan.qkvToBf16().run(address(qkv), qkvB);
        plan.scores().run(q, k, address(probs));
        softmax.rows(0, batch * heads * tokens);
        plan.probsToBf16().run(address(probs), probsB);
        plan.context().run(probsB, v, address(ctx));
    }

    @Override
    public void close() {
        plans.values().forEach(p -> p.steps().forEach(Step::destroy));
        plans.clear();
    }

    private static Plan plan(Shape s) {
        long b = s.batch();
        long h = s.heads();
        long t = s.tokens();
        long d = s.headDim();
        long dim = h * d;
        long row = 3 * dim;
        // qkv converted as it lies; the products read each head's q, k and v through strides:
        // (b, head, i, j) of part p at b·t·3dim + i·3dim + p·dim + head·d + j
        Step qkvToBf16 = reorder(OneDnn.matrix(dnnl_f32, b * t, row, row, 1),
                OneDnn.matrix(dnnl_bf16, b * t, row, row, 1), "qkv to bf16");
        long[] perHead = {b, h, t, d};
        long[] partStrides = {t * row, d, row, 1};
        Step scores = matmul(
                OneDnn.tensor(dnnl_bf16, perHead, partStrides),
                OneDnn.tensor(dnnl_bf16, new long[] {b, h, d, t}, new long[] {t * row, d, 1, row}),
                OneDnn.tensor(dnnl_f32, new long[] {b, h, t, t}, new long[] {h * t * t, t * t, t, 1}),
                s.scale(), "attention scores");
        Step probsToBf16 = reorder(OneDnn.matrix(dnnl_f32, b * h * t, t, t, 1),
                OneDnn.matrix(dnnl_bf16, b * h * t, t, t, 1), "probabilities to bf16");
        Step context = matmul(
                OneDnn.tensor(dnnl_bf16, new long[] {b, h, t, t}, new long[] {h * t * t, t * t, t, 1}),
                OneDnn.tensor(dnnl_bf16, perHead, partStrides),
                OneDnn.tensor(dnnl_f32, perHead, new long[] {t * dim, d, dim, 1}),
                1f, "attention context");
        long partBytes = dim * BF16_BYTES;
        return new Plan(qkvToBf16, scores, probsToBf16, context, b * t * row * BF16_BYTES, b * h * t * t * BF16_BYTES,
                partBytes);
    }

    private static Step reorder(dnnl_memory_desc from, dnnl_memory_desc to, String what) {
        dnnl_primitive_attr attr = OneDnn.userScratchpad();
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        try {
            OneDnn.check(dnnl_reorder_primitive_desc_create(pd, from, OneDnn.engine(), to, OneDnn.engine(), attr),
                    what);
            return new Step(OneDnn.Primitive.of(pd, what), new int[] {DNNL_ARG_FROM, DNNL_ARG_TO},
                    new dnnl_memory_desc[] {from, to});
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_attr_destroy(attr);
        }
    }

    /** dst = scale · src · weights, batched over the leading dimensions. */
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
            return new Step(OneDnn.Primitive.of(pd, what), new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                    new dnnl_memory_desc[] {src, weights, dst});
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_attr_destroy(attr);
            if (postOps != null) {
                dnnl_post_ops_destroy(postOps);
            }
        }
    }

    /** The oneDNN implementations this backend's attention of this shape runs (for tests and profiles). */
    List<String> implementations(int batch, int tokens, int heads, int headDim, float scale) {
        Plan p = plans.computeIfAbsent(new Shape(batch, tokens, heads, headDim, scale), Bf16Attention::plan);
        List<String> names = new ArrayList<>();
        for (Step s : p.steps()) {
            names.add(s.primitive().implementation());
        }
        return names;
    }

    private static Pointer address(Tensor t) {
        return OneDnn.at(((HostStorage) t.storage()).pointerAt(t.offset()));
    }
}
