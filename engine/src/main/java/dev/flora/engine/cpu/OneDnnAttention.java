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

import dev.flora.engine.backend.LayerNormWeights;
import dev.flora.engine.backend.LinearProduct;
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
 * ctx = softmax(S)·V for an image's heads in one call each, q, k and v read through strides
 * where the qkv projection wrote them, the context written straight into ctx's
 * [tokens, heads·headDim] layout. At DeiT shapes (197 tokens, 64 per head) the per-(image, head)
 * sgemm calls of the path that trains are too small for OpenBLAS to get near its peak.
 *
 * <p>Everything is in the products' format (fp32, or bf16 with fp32 accumulation, as the
 * backend's linear layers run): q, k and v as {@link #selfAttention} has the qkv projection
 * write them, the scores, which the first product writes into a per-thread buffer and oneDNN's
 * softmax turns into probabilities in place (in bf16 too, as PyTorch's bf16 autocast does), and
 * the context, which the output projection reads as it is. Nothing is kept for a backward pass:
 * the probabilities are not written to a tensor. Writing the scores in fp32 and converting in
 * the softmax left the first product, which is bound by its stores, much slower; converting in
 * oneDNN's fpmath mode instead, inside the products, left them at a fraction of the bf16
 * instructions' speed (docs/perf has the times).
 *
 * <p>The work is split as {@link OneDnnLinears#inRowBlocks} splits a product's rows: outside a
 * batch's lanes in two halves (of the images, or of one image's query rows) on the calling thread
 * and the helper, each single-threaded in oneDNN; inside a lane whole, on the lane's thread.
 */
final class OneDnnAttention implements AutoCloseable {
    /**
     * One call's shape (one image): its query rows (all the tokens, or a share of them), the
     * layout's own sizes (for the strides), and whether the context is written in the format
     * (for a product to read) or in fp32.
     */
    private record Shape(int queries, int tokens, int heads, int headDim, float scale, boolean ctxInFormat) {
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

    private record Plan(Step scores, Step softmax, Step context) {
        void destroy() {
            scores.destroy();
            softmax.destroy();
            context.destroy();
        }
    }

    /** Per thread: the scores, then the probabilities, of the image (or query rows) in hand. */
    private static final ThreadLocal<OneDnn.AlignedBuffer> SCORES = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);
    /** Per calling thread: what {@link #selfAttention} keeps between its three steps. */
    private static final ThreadLocal<OneDnn.AlignedBuffer> QKV = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);
    private static final ThreadLocal<OneDnn.AlignedBuffer> CONTEXT = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);

    private final ConcurrentHashMap<Shape, Plan> plans = new ConcurrentHashMap<>();
    private final OneDnnLinears.Format format;

    /** Products in the format of the backend's linear layers. */
    OneDnnAttention(OneDnnLinears.Format format) {
        this.format = format;
    }

    /**
     * y [batch·tokens, dim] = proj(attention(qkv(x))) (+ residual), x normalized by norm first
     * where it is not null (as {@link OneDnnLinears#mlp} does), q, k, v and the context kept in
     * the format in this thread's buffers between the steps: the qkv projection writes them
     * where the products read them and the output projection reads the context as it is. Run
     * as separate ops in bf16, qkv was written in fp32 and converted again per image, and the
     * context written in fp32 and converted again by the projection. Split in two, each thread
     * goes on from its share of the context to the projection of those rows without waiting for
     * the other's; of several images, each does its images' every step.
     */
    void selfAttention(OneDnnLinears linears, Tensor x, LayerNormWeights norm, LinearProduct qkv, LinearProduct proj,
                       Tensor residual, Tensor y, int batch, int tokens, int heads, int headDim, float scale) {
        int rows = batch * tokens;
        long dim = (long) heads * headDim;
        Pointer q = QKV.get().atLeast(rows * 3 * dim * format.bytes);
        Pointer ctx = CONTEXT.get().atLeast(rows * dim * format.bytes);
        int t = tokens;
        if (batch >= 2) {
            OneDnnLinears.inRowBlocks(batch, (lo, hi) -> {
                linears.forwardInFormat(x, norm, qkv, q, lo * t, hi * t);
                run(q, ctx, true, lo, hi, 0, t, t, heads, headDim, scale);
                linears.forwardFromFormat(ctx, proj, residual, y, lo * t, hi * t);
            });
        } else {
            linears.forwardInFormat(x, norm, qkv, q, rows); // every query reads every key and value
            OneDnnLinears.inRowBlocks(t, (lo, hi) -> {
                run(q, ctx, true, 0, 1, lo, hi, t, heads, headDim, scale);
                linears.forwardFromFormat(ctx, proj, residual, y, lo, hi);
            });
        }
    }

    /**
     * ctx [batch, tokens, heads·headDim] = softmax(scale·q·kᵀ)·v with q, k, v the three thirds of
     * each row of qkv [batch, tokens, 3·heads·headDim], in fp32 (bf16: converted first); probs
     * is not written (the backend's contract allows an inference backend that).
     */
    void forward(Tensor qkv, Tensor ctx, int batch, int tokens, int heads, int headDim, float scale,
                 OneDnnLinears linears) {
        Pointer q = linears.input(qkv, 0, batch * tokens, 3 * heads * headDim);
        forward(q, address(ctx, 0), false, batch, tokens, heads, headDim, scale);
    }

    /** As above from q, k, v in the format, the context in the format or in fp32. */
    private void forward(Pointer qkv, Pointer ctx, boolean ctxInFormat, int batch, int tokens, int heads,
                         int headDim, float scale) {
        if (batch >= 2) {
            OneDnnLinears.inRowBlocks(batch, (lo, hi) -> run(qkv, ctx, ctxInFormat, lo, hi, 0, tokens, tokens, heads,
                    headDim, scale));
        } else {
            // by query rows, not heads: DeiT-Tiny's three heads would go one to a thread, two to the other
            OneDnnLinears.inRowBlocks(tokens, (lo, hi) -> run(qkv, ctx, ctxInFormat, 0, 1, lo, hi, tokens, heads,
                    headDim, scale));
        }
    }

    /**
     * Images [b0, b1) of the batch, their query rows [r0, r1), on the calling thread, one image
     * at a time: an image's scores (six heads of DeiT-S: 0.9 MB in fp32) stay in cache from the
     * product that writes them through the softmax to the product that reads them, where a
     * lane's sixteen images at once would go through memory three times.
     */
    private void run(Pointer qkv, Pointer ctx, boolean ctxInFormat, int b0, int b1, int r0, int r1, int tokens,
                     int heads, int headDim, float scale) {
        Shape shape = new Shape(r1 - r0, tokens, heads, headDim, scale, ctxInFormat);
        Plan plan = plans.computeIfAbsent(shape, this::plan);
        long t = tokens;
        long dim = (long) heads * headDim;
        long bytes = format.bytes;
        long ctxBytes = ctxInFormat ? bytes : Float.BYTES;
        Pointer scores = SCORES.get().atLeast((long) heads * shape.queries() * t * bytes);
        for (int b = b0; b < b1; b++) {
            long image = qkv.address() + b * t * 3 * dim * bytes;
            long q = image + r0 * 3 * dim * bytes;
            Pointer out = OneDnn.at(ctx.address() + (b * t + r0) * dim * ctxBytes);
            plan.scores().run(OneDnn.at(q), OneDnn.at(image + dim * bytes), scores);
            plan.softmax().run(scores, scores);
            plan.context().run(scores, OneDnn.at(image + 2 * dim * bytes), out);
        }
    }

    @Override
    public void close() {
        plans.values().forEach(Plan::destroy);
        plans.clear();
    }

    /** (image, head, i, j) of q, k or v in qkv [tokens, 3·heads·headDim], from the call's first element. */
    private static long[] inQkv(Shape s) {
        long row = 3L * s.heads() * s.headDim();
        return new long[] {s.tokens() * row, s.headDim(), row, 1};
    }

    /**
     * The call's scores as one dense block in the thread's buffer. Scores strided as a part of a
     * larger block made oneDNN fall back to its reference softmax, which at batch 1 made a
     * forward several times slower.
     */
    private static long[] callScores(Shape s) {
        long t = s.tokens();
        return new long[] {s.heads() * s.queries() * t, s.queries() * t, t, 1};
    }

    /** (image, head, i, j) of the queries, or with {@code rows} = tokens of the keys or values. */
    private static long[] perHead(Shape s, int rows) {
        return new long[] {1, s.heads(), rows, s.headDim()}; // one image per call (see run)
    }

    private static long[] scoreDims(Shape s) {
        return new long[] {1, s.heads(), s.queries(), s.tokens()};
    }

    private Plan plan(Shape s) {
        int type = format.dataType;
        long d = s.headDim();
        long dim = (long) s.heads() * d;
        Step scores = matmul(tensor(type, perHead(s, s.queries()), inQkv(s)),
                tensor(type, new long[] {1, s.heads(), d, s.tokens()}, transposed(inQkv(s))),
                tensor(type, scoreDims(s), callScores(s)), s.scale(), "attention scores");
        Step softmax = softmax(tensor(type, scoreDims(s), callScores(s)), tensor(type, scoreDims(s), callScores(s)), 3);
        Step context = matmul(tensor(type, scoreDims(s), callScores(s)), tensor(type, perHead(s, s.tokens()), inQkv(s)),
                tensor(s.ctxInFormat() ? type : dnnl_f32, perHead(s, s.queries()),
                        new long[] {s.queries() * dim, d, dim, 1}), 1f, "attention context");
        return new Plan(scores, softmax, context);
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
        return new Step(OneDnnSoftmax.create(src, dst, axis), new int[] {DNNL_ARG_SRC, DNNL_ARG_DST},
                new dnnl_memory_desc[] {src, dst});
    }

    private static Pointer address(Tensor t, long offset) {
        return OneDnn.at(((HostStorage) t.storage()).pointerAt(t.offset() + offset));
    }
}
