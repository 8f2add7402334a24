package dev.flora.engine.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_linear;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_eltwise;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_post_ops;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_softmax_accurate;
import static org.bytedeco.dnnl.global.dnnl.dnnl_softmax_forward_primitive_desc_create;

import dev.flora.engine.tensor.HostStorage;
import dev.flora.engine.tensor.Tensor;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.Pointer;

/**
 * Attention's two products for inference through oneDNN's batched matmul: S = scale·Q·Kᵀ and
 * ctx = softmax(S)·V for an image's heads in one call each, the context written straight into
 * ctx's [tokens, heads·headDim] layout. At DeiT shapes (197 tokens, 64 per head) the
 * per-(image, head) sgemm calls of the path that trains are too small for OpenBLAS to get near
 * its peak.
 *
 * <p>The softmax between the products is oneDNN's too. In fp32 q, k and v are read in place from
 * qkv through strides and the softmax runs in place on the scores. In bf16 (as the bf16 backend
 * runs its linear layers: bf16 inputs, fp32 accumulation) an image's q, k and v are first
 * converted into a bf16 buffer, the first product writes the scores in bf16 (accumulated in
 * fp32, as PyTorch's bf16 autocast does) into a per-thread buffer, and the softmax runs on them
 * in place, bf16 to bf16, for the second product to read: probs is then not written at all (no
 * backward reads it). Writing the scores in fp32 into probs and converting in the softmax left
 * the first product, which is bound by its stores, much slower (docs/perf has the times).
 * Converting in oneDNN's fpmath mode instead, inside the products, left them at a fraction of
 * the bf16 instructions' speed.
 *
 * <p>The work is split as {@link OneDnnLinears#inRowBlocks} splits a product's rows: outside a
 * batch's lanes in two halves (of the images, or of one image's heads) on the calling thread
 * and the helper, each single-threaded in oneDNN; inside a lane whole, on the lane's thread.
 */
final class OneDnnAttention implements AutoCloseable {
    /** One call's shape (one image): the heads in it, and the layout's own sizes (for the strides). */
    private record Shape(int callHeads, int tokens, int heads, int headDim, float scale) {
    }

    /** A primitive with its source and destination arguments (and weights for a product). */
    private record Step(OneDnn.Primitive primitive, int[] args, dnnl_memory_desc[] descriptors) {
        void run(Pointer... pointers) {
            OneDnn.execute(primitive, args, descriptors, pointers);
        }

        void destroy() {
            primitive.destroy();
            for (dnnl_memory_desc md : descriptors) {
                dnnl_memory_desc_destroy(md);
            }
        }
    }

    /** toBf16 (q, k, v to bf16) only in bf16, whose softmax writes bf16. */
    private record Plan(Step toBf16, Step scores, Step softmax, Step context) {
        void destroy() {
            for (Step s : new Step[] {toBf16, scores, softmax, context}) {
                if (s != null) {
                    s.destroy();
                }
            }
        }
    }

    /** Per thread: an image's q, k and v in bf16 (see {@link #bf16Plan}), then its probabilities. */
    private static final ThreadLocal<OneDnn.AlignedBuffer> PARTS = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);
    private static final ThreadLocal<OneDnn.AlignedBuffer> PROBS = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);
    private static final long BF16_BYTES = 2;

    private final ConcurrentHashMap<Shape, Plan> plans = new ConcurrentHashMap<>();
    /** In-place fp32 softmax over rows of each width, per row count. */
    private final ConcurrentHashMap<Long, Step> rowSoftmaxes = new ConcurrentHashMap<>();
    private final boolean bf16;

    /** Products in fp32, or with bf16 inputs and fp32 accumulation. */
    OneDnnAttention(boolean bf16) {
        this.bf16 = bf16;
    }

    /**
     * probs [batch·heads, tokens, tokens] = softmax(scale·q·kᵀ) (in bf16 not written: the
     * probabilities stay in a per-thread bf16 buffer) and ctx [batch, tokens, heads·headDim] =
     * softmax·v, with q, k, v the three thirds of each row of qkv [batch, tokens, 3·heads·headDim].
     */
    void forward(Tensor qkv, Tensor probs, Tensor ctx, int batch, int tokens, int heads, int headDim, float scale) {
        if (batch >= 2) {
            OneDnnLinears.inRowBlocks(batch, (lo, hi) -> run(qkv, probs, ctx, lo, hi, 0, heads, tokens, heads,
                    headDim, scale));
        } else {
            OneDnnLinears.inRowBlocks(heads, (lo, hi) -> run(qkv, probs, ctx, 0, 1, lo, hi, tokens, heads, headDim,
                    scale));
        }
    }

    /**
     * Images [b0, b1) and heads [h0, h1) of the batch, on the calling thread, one image at a
     * time: an image's scores (six heads of DeiT-S: 0.9 MB) stay in cache from the product that
     * writes them through the softmax to the product that reads them, where a lane's sixteen
     * images at once would go through memory three times.
     */
    private void run(Tensor qkv, Tensor probs, Tensor ctx, int b0, int b1, int h0, int h1, int tokens, int heads,
                     int headDim, float scale) {
        Shape shape = new Shape(h1 - h0, tokens, heads, headDim, scale);
        Plan plan = plans.computeIfAbsent(shape, bf16 ? OneDnnAttention::bf16Plan : OneDnnAttention::fp32Plan);
        long t = tokens;
        long dim = (long) heads * headDim;
        long part = (long) shape.callHeads() * headDim * BF16_BYTES; // q to k, k to v in a bf16 row
        for (int b = b0; b < b1; b++) {
            long q = b * t * 3 * dim + (long) h0 * headDim;
            long p = ((long) b * heads + h0) * t * t;
            Pointer out = address(ctx, b * t * dim + (long) h0 * headDim);
            if (plan.toBf16() == null) {
                plan.scores().run(address(qkv, q), address(qkv, q + dim), address(probs, p));
                plan.softmax().run(address(probs, p), address(probs, p));
                plan.context().run(address(probs, p), address(qkv, q + 2 * dim), out);
            } else {
                long parts = PARTS.get().atLeast(3 * part * t).address();
                Pointer p16 = PROBS.get().atLeast(shape.callHeads() * t * t * BF16_BYTES);
                plan.toBf16().run(address(qkv, q), OneDnn.at(parts));
                plan.scores().run(OneDnn.at(parts), OneDnn.at(parts + part), p16);
                plan.softmax().run(p16, p16);
                plan.context().run(p16, OneDnn.at(parts + 2 * part), out);
            }
        }
    }

    /**
     * Softmax in place over each of the rows [rows, cols] of s, in fp32: the class-token tail's
     * scores (the last block's one query per head). Called once a forward, the JVM's own loops
     * would stay uncompiled for hundreds of forwards.
     */
    void softmax(Tensor s, int rows, int cols) {
        Step step = rowSoftmaxes.computeIfAbsent(((long) rows << 32) | cols, key -> {
            long[] dims = {rows, cols};
            long[] strides = {cols, 1};
            return softmax(tensor(dnnl_f32, dims, strides), tensor(dnnl_f32, dims, strides), 1);
        });
        // a few rows per image: on this thread alone, as little as waking another would cost
        OpenMpThreads.use(1);
        step.run(address(s, 0), address(s, 0));
    }

    @Override
    public void close() {
        plans.values().forEach(Plan::destroy);
        plans.clear();
        rowSoftmaxes.values().forEach(Step::destroy);
        rowSoftmaxes.clear();
    }

    /** (image, head, i, j) of q, k or v in qkv, from the call's first element. */
    private static long[] inQkv(Shape s) {
        long row = 3L * s.heads() * s.headDim();
        return new long[] {s.tokens() * row, s.headDim(), row, 1};
    }

    /** (image, head, i, j) of the scores in probs, from the call's first. */
    private static long[] inProbs(Shape s) {
        long t = s.tokens();
        return new long[] {(long) s.heads() * t * t, t * t, t, 1};
    }

    /**
     * The call's scores as one dense block (its heads are consecutive in probs): described so,
     * not through probs' own image stride, or oneDNN falls back to its reference softmax, which
     * at batch 1 (half the heads per call) made a forward several times slower.
     */
    private static long[] callScores(Shape s) {
        long t = s.tokens();
        return new long[] {s.callHeads() * t * t, t * t, t, 1};
    }

    private static long[] perHead(Shape s) {
        return new long[] {1, s.callHeads(), s.tokens(), s.headDim()}; // one image per call (see run)
    }

    private static long[] scoreDims(Shape s) {
        return new long[] {1, s.callHeads(), s.tokens(), s.tokens()};
    }

    /** Into ctx's [tokens, heads·headDim] place. */
    private static dnnl_memory_desc context(Shape s) {
        long d = s.headDim();
        long dim = (long) s.heads() * d;
        return tensor(dnnl_f32, perHead(s), new long[] {s.tokens() * dim, d, dim, 1});
    }

    private static Plan fp32Plan(Shape s) {
        long[] kT = transposed(inQkv(s));
        Step scores = matmul(tensor(dnnl_f32, perHead(s), inQkv(s)),
                tensor(dnnl_f32, new long[] {1, s.callHeads(), s.headDim(), s.tokens()}, kT),
                tensor(dnnl_f32, scoreDims(s), inProbs(s)), s.scale(), "attention scores");
        Step context = matmul(tensor(dnnl_f32, scoreDims(s), inProbs(s)), tensor(dnnl_f32, perHead(s), inQkv(s)),
                context(s), 1f, "attention context");
        Step softmax = softmax(tensor(dnnl_f32, scoreDims(s), callScores(s)),
                tensor(dnnl_f32, scoreDims(s), callScores(s)), 3);
        return new Plan(null, scores, softmax, context);
    }

    /**
     * The bf16 buffer's q, k and v: [tokens, 3, callHeads·headDim], an image's rows as in qkv
     * with only the call's heads (a reorder with inner runs of whole head groups ran about twice
     * as fast as one that gathers each head's rows).
     */
    private static Plan bf16Plan(Shape s) {
        long t = s.tokens();
        long d = s.headDim();
        long h = s.callHeads();
        long dim = (long) s.heads() * d;
        long[] rows = {t, 3, h * d};
        Step toBf16 = reorder(tensor(dnnl_f32, rows, new long[] {3 * dim, dim, 1}),
                tensor(dnnl_bf16, rows, new long[] {3 * h * d, h * d, 1}), "q, k, v to bf16");
        long[] headRows = {t * 3 * h * d, d, 3 * h * d, 1};
        Step scores = matmul(tensor(dnnl_bf16, perHead(s), headRows),
                tensor(dnnl_bf16, new long[] {1, h, d, t}, transposed(headRows)),
                tensor(dnnl_bf16, scoreDims(s), callScores(s)), s.scale(), "attention scores");
        Step softmax = softmax(tensor(dnnl_bf16, scoreDims(s), callScores(s)),
                tensor(dnnl_bf16, scoreDims(s), callScores(s)), 3);
        Step context = matmul(tensor(dnnl_bf16, scoreDims(s), callScores(s)),
                tensor(dnnl_bf16, perHead(s), headRows), context(s), 1f, "attention context");
        return new Plan(toBf16, scores, softmax, context);
    }

    /** Strides of the last two dimensions swapped: Kᵀ read from K's. */
    private static long[] transposed(long[] strides) {
        return new long[] {strides[0], strides[1], strides[3], strides[2]};
    }

    private static dnnl_memory_desc tensor(int type, long[] dims, long[] strides) {
        return OneDnn.tensor(type, dims, strides);
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

    /** Softmax along one dimension. */
    private static Step softmax(dnnl_memory_desc src, dnnl_memory_desc dst, int axis) {
        dnnl_primitive_attr attr = OneDnn.userScratchpad();
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        try {
            OneDnn.check(dnnl_softmax_forward_primitive_desc_create(pd, OneDnn.engine(), dnnl_forward_inference,
                    dnnl_softmax_accurate, src, dst, axis, attr), "attention softmax");
            return new Step(OneDnn.Primitive.of(pd, "attention softmax"), new int[] {DNNL_ARG_SRC, DNNL_ARG_DST},
                    new dnnl_memory_desc[] {src, dst});
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_attr_destroy(attr);
        }
    }

    private static Step reorder(dnnl_memory_desc from, dnnl_memory_desc to, String what) {
        return new Step(OneDnn.reorder(from, to, what), new int[] {DNNL_ARG_FROM, DNNL_ARG_TO},
                new dnnl_memory_desc[] {from, to});
    }

    private static Pointer address(Tensor t, long offset) {
        return OneDnn.at(((HostStorage) t.storage()).pointerAt(t.offset() + offset));
    }
}
