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
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_gelu_erf;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_create_with_tag;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_binary;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_eltwise;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_post_ops;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_weights_md;

import dev.flora.engine.backend.LayerNormWeights;
import dev.flora.engine.backend.LinearProduct;
import dev.flora.engine.tensor.HostStorage;
import dev.flora.engine.tensor.Storage;
import dev.flora.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The CPU backend's linear layers for inference through oneDNN's matmul: y = x · Wᵀ + b
 * (+ residual), the bias and the residual added in fp32 as the product is written. In
 * {@link Format#BF16} x and W are rounded to bfloat16 and the products accumulated in fp32; in
 * {@link Format#F32} everything is fp32 (oneDNN's fp32 kernels instead of OpenBLAS's, for
 * inference only). Each weight matrix is copied once, on its first use, into the format and the
 * blocked layout oneDNN's kernel reads fastest, and kept: the weights are taken to be constant
 * (inference), and the model's own fp32 copies of them may be freed
 * ({@code VisionTransformer.storeWeightsOnce}). A bf16 input is converted per call, but for an
 * MLP's hidden activations ({@link #mlp}); a factorized layer's intermediate h = x · VT[:r]ᵀ is
 * written in the format by the first product and read so by the second.
 */
final class OneDnnLinears implements AutoCloseable {
    /** What the products read: bf16 with fp32 accumulation, or fp32 throughout. */
    enum Format {
        BF16(dnnl_bf16, 2), F32(dnnl_f32, 4);

        final int dataType;
        final int bytes;

        Format(int dataType, int bytes) {
            this.dataType = dataType;
            this.bytes = bytes;
        }
    }

    /** The rows the weight layout is chosen for; oneDNN then runs that layout at every row count. */
    private static final int LAYOUT_ROWS = 256;
    /**
     * The weights (in·out) from which a fp32 layer is kept in column halves and a product whose
     * rows would be split is split by columns instead: DeiT-S's qkv and MLP gained by it,
     * DeiT-Tiny's (a quarter the size) lost (docs/perf/2026-12-06-bf16-cpu.md, "Attention with
     * its projections as one op, …").
     */
    private static final long COLUMN_SPLIT_WEIGHTS = 1 << 18;
    /** A column half's smallest width, and the multiple its split falls on (oneDNN's column blocks). */
    private static final int MIN_HALF = 16;
    /** See {@link #paddedRank}. */
    static final int RANK_MULTIPLE = 16;
    private static final int RESIDUAL_ARG = DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE | DNNL_ARG_SRC_1;
    private static final ThreadLocal<OneDnn.AlignedBuffer> INPUTS = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);
    private static final ThreadLocal<OneDnn.AlignedBuffer> LOW_RANK_H = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);
    private static final ThreadLocal<OneDnn.AlignedBuffer> MLP_HIDDEN = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);

    /**
     * A weight matrix as the layers pass it: K×N with element (k, n) at offset + n·ld + k, and the
     * shape it is packed at (at least K×N, zeros beyond).
     */
    private record WeightKey(Storage storage, long offset, int k, int n, int ld, int paddedK, int paddedN) {
    }

    private record ConversionKey(int rows, int cols) {
    }

    private record Conversion(OneDnn.Primitive primitive, dnnl_memory_desc from, dnnl_memory_desc to) {
    }

    private final ConcurrentHashMap<WeightKey, PackedWeights> weights = new ConcurrentHashMap<>();
    /**
     * The products' primitives, shared by all weights of one shape: a primitive reads its weights
     * through a pointer, so DeiT's twelve fc1 layers need one per row count, not twelve. Each
     * primitive holds its own generated kernels, and a server sees many row counts (one per
     * batch size): one primitive per weight made its memory grow twelve times as fast.
     */
    private final ConcurrentHashMap<CallKey, Call> calls = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<ConversionKey, Conversion> conversions = new ConcurrentHashMap<>();
    /** The layer norms that the fused ops run before their first product. */
    private final OneDnnLayerNorm norms = new OneDnnLayerNorm();
    private final Format format;
    /** Whether a weight's fp32 pages are returned once it is copied ({@link #discardingSources}). */
    private volatile boolean discardSources;

    OneDnnLinears(Format format) {
        this.format = format;
    }

    /**
     * Runs {@code body} with every weight matrix copied in it having its fp32 source's whole pages
     * returned to the system right after the copy: the caller releases those values next, and
     * otherwise the model and all the copies would be resident together for a moment (for DeiT-B
     * in fp32, the model twice over).
     */
    void discardingSources(Runnable body) {
        discardSources = true;
        try {
            body.run();
        } finally {
            discardSources = false;
        }
    }

    Format format() {
        return format;
    }

    /** y [rows, out] = the product p of x [rows, in] (+ residual). */
    void forward(Tensor x, LinearProduct p, Tensor residual, Tensor y, int rows) {
        if (splitsColumns(p, rows)) {
            Pointer in = address(x);
            inColumnHalves((LinearProduct.Dense) p, (w, half) -> w.multiply(half, in, rows, address(residual),
                    address(y), p.out(), false, false));
            return;
        }
        Product product = product(p);
        int out = p.out();
        inRowBlocks(rows, (lo, hi) -> product.multiply(input(x, lo, hi, p.in()), hi - lo,
                address(residual, (long) lo * out), address(y, (long) lo * out), false, false));
    }

    /**
     * dst [rows, out] in the format (for a next product to read) = the product p of x [rows, in],
     * normalized by norm first where it is not null.
     */
    void forwardInFormat(Tensor x, LayerNormWeights norm, LinearProduct p, Pointer dst, int rows) {
        if (splitsColumns(p, rows)) {
            Pointer in = inputRows(x, norm, rows, p.in());
            inColumnHalves((LinearProduct.Dense) p, (w, half) -> w.multiply(half, in, rows, null, dst, p.out(), true,
                    false));
            return;
        }
        inRowBlocks(rows, (lo, hi) -> forwardInFormat(x, norm, p, dst, lo, hi));
    }

    /** Rows [lo, hi) of the above, on the calling thread. */
    void forwardInFormat(Tensor x, LayerNormWeights norm, LinearProduct p, Pointer dst, int lo, int hi) {
        product(p).multiply(input(x, norm, lo, hi, p.in()), hi - lo, null,
                OneDnn.at(dst.address() + (long) lo * p.out() * format.bytes), true, false);
    }

    /** Rows [lo, hi) of y [rows, out] = the product p of src [rows, in] in the format (+ residual), on the calling thread. */
    void forwardFromFormat(Pointer src, LinearProduct p, Tensor residual, Tensor y, int lo, int hi) {
        int out = p.out();
        product(p).multiply(OneDnn.at(src.address() + (long) lo * p.in() * format.bytes), hi - lo,
                address(residual, (long) lo * out), address(y, (long) lo * out), false, false);
    }

    /**
     * y = fc2(GELU(fc1(x))) (+ residual): fc1's product GELU'd as it is written, in the format,
     * into this thread's buffer, which fc2 reads as it is. Run as two layers, fc1 wrote its
     * output in fp32 and, in bf16, fc2 converted it again, two passes over the widest
     * activations of a block. Where norm is not null, fc1 reads x normalized by it, written in
     * the format by the thread that runs those rows: as a layer of its own, the layer norm wrote
     * fp32 and, in bf16, fc1 converted it again. Two dense layers kept in {@link ColumnHalves}
     * are split by columns where the rows would be split, the hidden activations then in this
     * thread's buffer for both threads, which wait for each other once between fc1 and fc2.
     */
    void mlp(Tensor x, LayerNormWeights norm, LinearProduct fc1, LinearProduct fc2, Tensor residual, Tensor y,
             int rows) {
        if (splitsColumns(fc1, rows) && splitsColumns(fc2, rows)) {
            Pointer in = inputRows(x, norm, rows, fc1.in());
            Pointer hidden = MLP_HIDDEN.get().atLeast((long) rows * fc1.out() * format.bytes);
            inColumnHalves((LinearProduct.Dense) fc1, (w, half) -> w.multiply(half, in, rows, null, hidden, fc1.out(),
                    true, true));
            inColumnHalves((LinearProduct.Dense) fc2, (w, half) -> w.multiply(half, hidden, rows, address(residual),
                    address(y), fc2.out(), false, false));
            return;
        }
        Product first = product(fc1);
        Product second = product(fc2);
        int out = fc2.out();
        inRowBlocks(rows, (lo, hi) -> {
            Pointer hidden = MLP_HIDDEN.get().atLeast((long) (hi - lo) * fc1.out() * format.bytes);
            first.multiply(input(x, norm, lo, hi, fc1.in()), hi - lo, null, hidden, true, true);
            second.multiply(hidden, hi - lo, address(residual, (long) lo * out), address(y, (long) lo * out), false,
                    false);
        });
    }

    /** A layer's product on rows of src (in the format), its bias added: see {@link PackedWeights#multiply}. */
    @FunctionalInterface
    private interface Product {
        void multiply(Pointer src, int rows, Pointer residual, Pointer dst, boolean dstInFormat, boolean gelu);
    }

    /**
     * The product p as oneDNN runs it: one packed matrix, or for a factorized layer two, its
     * intermediate h = x · VT[:r]ᵀ written in the format into this thread's buffer by the first
     * and read so by the second.
     */
    private Product product(LinearProduct p) {
        Pointer bias = address(p.bias(), 0);
        if (p instanceof LinearProduct.Dense d && format == Format.F32) {
            ColumnHalves w = halves(d);
            return (src, rows, residual, dst, dstInFormat, gelu) -> {
                w.multiply(0, src, rows, residual, dst, d.out(), dstInFormat, gelu);
                w.multiply(1, src, rows, residual, dst, d.out(), dstInFormat, gelu);
            };
        }
        if (p instanceof LinearProduct.Dense d) {
            PackedWeights w = packed(d.w(), d.in(), d.out(), d.in());
            return (src, rows, residual, dst, dstInFormat, gelu) ->
                    w.multiply(src, rows, bias, residual, dst, d.out(), dstInFormat, gelu);
        }
        LinearProduct.LowRank l = (LinearProduct.LowRank) p;
        int padded = paddedRank(l.rank());
        PackedWeights first = packed(l.vt(), l.in(), l.rank(), l.in(), l.in(), padded);
        PackedWeights second = packed(l.u(), l.rank(), l.out(), l.maxRank(), padded, l.out());
        return (src, rows, residual, dst, dstInFormat, gelu) -> {
            Pointer h = LOW_RANK_H.get().atLeast((long) rows * padded * format.bytes);
            first.multiply(src, rows, null, null, h, padded, true, false);
            second.multiply(h, rows, bias, residual, dst, l.out(), dstInFormat, gelu);
        };
    }

    /**
     * A dense layer's weights in fp32 as two packed matrices, the columns [0, split) of its
     * output and [split, out): what two threads multiply at once when a product's rows are too
     * few to split well (one image's), each thread then reading half the weights instead of all
     * of them; on one thread the halves run one after the other, as fast as a whole matrix
     * at a lane's rows. Only the halves are kept, so a weight is stored once whatever the
     * batch. A layer below {@link #COLUMN_SPLIT_WEIGHTS} is one matrix, the second half null:
     * at one image's rows, two half products one after the other took longer than one.
     */
    private record ColumnHalves(PackedWeights first, PackedWeights second, int split, Pointer bias) {
        /** Half 0 or 1 of dst [rows, ld] (+ residual [rows, ld], fp32) = src · W (+ bias). */
        void multiply(int half, Pointer src, int rows, Pointer residual, Pointer dst, int ld, boolean dstInFormat,
                      boolean gelu) {
            if (half == 1 && second == null) {
                return;
            }
            long n0 = half == 0 ? 0 : split;
            long dstBytes = dstInFormat ? first.format.bytes : Float.BYTES;
            (half == 0 ? first : second).multiply(src, rows, plus(bias, n0 * Float.BYTES),
                    plus(residual, n0 * Float.BYTES), plus(dst, n0 * dstBytes), ld, dstInFormat, gelu);
        }

        private static Pointer plus(Pointer p, long bytes) {
            return p == null ? null : OneDnn.at(p.address() + bytes);
        }
    }

    /** What a thread does with its column half. */
    @FunctionalInterface
    private interface HalfProduct {
        void run(ColumnHalves weights, int half);
    }

    /** Splits a fp32 dense product by its output columns where its rows would be split (see ColumnHalves). */
    private boolean splitsColumns(LinearProduct p, int rows) {
        return format == Format.F32 && p instanceof LinearProduct.Dense d && inHalves(d) && splitsRows(rows);
    }

    private static boolean inHalves(LinearProduct.Dense d) {
        return (long) d.in() * d.out() >= COLUMN_SPLIT_WEIGHTS && d.out() >= 2 * MIN_HALF;
    }

    private ColumnHalves halves(LinearProduct.Dense d) {
        if (!inHalves(d)) {
            return new ColumnHalves(packed(d.w(), d.in(), d.out(), d.in()), null, d.out(), address(d.bias(), 0));
        }
        int split = d.out() / 2 / MIN_HALF * MIN_HALF;
        return new ColumnHalves(packed(d.w(), d.in(), split, d.in()),
                packed(d.w().from((long) split * d.in()), d.in(), d.out() - split, d.in()), split,
                address(d.bias(), 0));
    }

    /** The two column halves of d's product, on the calling thread and the helper. */
    private void inColumnHalves(LinearProduct.Dense d, HalfProduct body) {
        ColumnHalves w = halves(d);
        Parallel.pair(() -> {
            OpenMpThreads.use(1);
            body.run(w, 0);
        }, () -> {
            OpenMpThreads.use(1);
            body.run(w, 1);
        });
    }

    /**
     * All rows of x [rows, cols] for a column split (fp32), normalized by norm first where it is
     * not null: then in this thread's input buffer, the norm split in row halves.
     */
    private Pointer inputRows(Tensor x, LayerNormWeights norm, int rows, int cols) {
        if (norm == null) {
            return address(x);
        }
        Pointer dst = INPUTS.get().atLeast((long) rows * cols * format.bytes);
        long rowBytes = (long) cols * format.bytes;
        inRowBlocks(rows, (lo, hi) -> norms.forward(address(x, (long) lo * cols), norm,
                OneDnn.at(dst.address() + lo * rowBytes), format.dataType, hi - lo, cols));
        return dst;
    }

    /** Rows [lo, hi) of a product, on the calling thread. */
    @FunctionalInterface
    interface RowBlock {
        void run(int lo, int hi);
    }

    /**
     * Runs a product on its rows. Outside the lanes of a batch, the rows go in two halves to the
     * calling thread and the spinning helper, each half single-threaded in oneDNN: oneDNN's own
     * OpenMP workers sleep between products (OMP_WAIT_POLICY=PASSIVE, see {@link OneDnn}), and
     * waking one costs more than a single image's product takes (docs/perf/2026-12-06-bf16-cpu.md,
     * "Products in two row halves"). Inside a lane, the other lanes keep the cores busy and
     * oneDNN runs the rows on the calling thread alone.
     */
    static void inRowBlocks(int rows, RowBlock body) {
        if (!splitsRows(rows)) {
            // as many as our own ops may use here: one inside a lane, -Dflora.threads outside; one
            // for a single row (the class-token tail, the head at batch 1), where waking oneDNN's
            // sleeping worker took longer than the whole product
            OpenMpThreads.use(rows < 2 ? 1 : Math.min(OpenMpThreads.DEFAULT, Parallel.threads()));
            body.run(0, rows);
            return;
        }
        int mid = rows / 2;
        Parallel.pair(() -> {
            OpenMpThreads.use(1);
            body.run(0, mid);
        }, () -> {
            OpenMpThreads.use(1);
            body.run(mid, rows);
        });
    }

    /** Whether {@link #inRowBlocks} splits these rows over two threads. */
    private static boolean splitsRows(int rows) {
        return !Parallel.inPoolTask() && Parallel.hasHelper() && OpenMpThreads.available() && rows >= 2;
    }

    /**
     * The rank the two products of a factorized layer run at: r rounded up to a multiple of
     * {@link #RANK_MULTIPLE}, the factors padded with zeros (h's extra columns are exactly zero and
     * add exactly nothing). oneDNN's bf16 kernels run ranks off that multiple far slower, more than
     * the padding's extra arithmetic costs (docs/perf/2026-12-06-bf16-cpu.md, "Products in two row
     * halves"); fp32 keeps the same padding, not measured apart.
     */
    static int paddedRank(int r) {
        return (r + RANK_MULTIPLE - 1) / RANK_MULTIPLE * RANK_MULTIPLE;
    }

    /** Whether some product has converted the weight matrix that starts where {@code w} does. */
    boolean holds(Tensor w) {
        return weights.keySet().stream().anyMatch(k -> k.storage() == w.storage() && k.offset() == w.offset());
    }

    /** Weight matrices converted so far (a test's window on the cache). */
    int packedWeightCount() {
        return weights.size();
    }

    /** Product primitives created so far (a test's window on their sharing). */
    int productPrimitiveCount() {
        return calls.size();
    }

    @Override
    public void close() {
        weights.values().forEach(PackedWeights::destroy);
        weights.clear();
        calls.values().forEach(Call::destroy);
        calls.clear();
        conversions.values().forEach(c -> {
            c.primitive().destroy();
            dnnl_memory_desc_destroy(c.from());
            dnnl_memory_desc_destroy(c.to());
        });
        conversions.clear();
        norms.close();
    }

    private PackedWeights packed(Tensor w, int k, int n, int ld) {
        return packed(w, k, n, ld, k, n);
    }

    /** W (K×N, as {@link WeightKey} says) packed as a paddedK × paddedN matrix, zeros beyond K and N. */
    private PackedWeights packed(Tensor w, int k, int n, int ld, int paddedK, int paddedN) {
        WeightKey key = new WeightKey(w.storage(), w.offset(), k, n, ld, paddedK, paddedN);
        return weights.computeIfAbsent(key, kk -> {
            PackedWeights packed = new PackedWeights(w, k, n, ld, paddedK, paddedN, format, calls);
            if (discardSources) {
                FloatPointer source = ((HostStorage) w.storage()).pointerAt(w.offset());
                Libc.discardPages(source.address() + source.position() * Float.BYTES,
                        ((long) (n - 1) * ld + k) * Float.BYTES);
            }
            return packed;
        });
    }

    /** Rows [lo, hi) of x [rows, cols] as the products read them: x itself in fp32, else in bf16. */
    Pointer input(Tensor x, int lo, int hi, int cols) {
        return format == Format.F32 ? address(x, (long) lo * cols) : toBf16(x, lo, hi, cols);
    }

    /** As {@link #input(Tensor, int, int, int)}, normalized by norm first where it is not null. */
    private Pointer input(Tensor x, LayerNormWeights norm, int lo, int hi, int cols) {
        if (norm == null) {
            return input(x, lo, hi, cols);
        }
        int rows = hi - lo;
        Pointer dst = INPUTS.get().atLeast((long) rows * cols * format.bytes);
        norms.forward(address(x, (long) lo * cols), norm, dst, format.dataType, rows, cols);
        return dst;
    }

    /** Rows [lo, hi) of x [rows, cols] in bf16 in this thread's input buffer. */
    private Pointer toBf16(Tensor x, int lo, int hi, int cols) {
        int rows = hi - lo;
        Conversion c = conversions.computeIfAbsent(new ConversionKey(rows, cols), key -> {
            dnnl_memory_desc from = OneDnn.matrix(dnnl_f32, rows, cols, cols, 1);
            dnnl_memory_desc to = OneDnn.matrix(dnnl_bf16, rows, cols, cols, 1);
            return new Conversion(OneDnn.reorder(from, to, "input to bf16"), from, to);
        });
        Pointer dst = INPUTS.get().atLeast((long) rows * cols * Format.BF16.bytes);
        OneDnn.execute(c.primitive(), new int[] {DNNL_ARG_FROM, DNNL_ARG_TO},
                new dnnl_memory_desc[] {c.from(), c.to()}, new Pointer[] {address(x, (long) lo * cols), dst});
        return dst;
    }

    private static Pointer address(Tensor t) {
        return address(t, 0);
    }

    /** Float {@code offset} of tensor t, null for no tensor. */
    private static Pointer address(Tensor t, long offset) {
        return t == null ? null : OneDnn.at(((HostStorage) t.storage()).pointerAt(t.offset() + offset));
    }

    /**
     * One product's shape: the rows, the (packed) weights' K and N, the row stride of what it
     * writes and adds, and what those are.
     */
    private record CallKey(int rows, int k, int n, int ld, boolean dstInFormat, boolean bias, boolean residual,
                           boolean gelu) {
    }

    /**
     * A product's primitive and the descriptors of what it reads and writes, including its own
     * copy of the weights' layout: every layer that shares the call binds these same descriptor
     * objects, so a thread's memory objects ({@link OneDnn#execute}) are made once, not again
     * whenever the layer changes.
     */
    private record Call(OneDnn.Primitive primitive, dnnl_memory_desc src, dnnl_memory_desc weights,
                        dnnl_memory_desc bias, dnnl_memory_desc residual, dnnl_memory_desc dst) {
        void destroy() {
            primitive.destroy();
            for (dnnl_memory_desc md : new dnnl_memory_desc[] {src, weights, bias, residual, dst}) {
                if (md != null) {
                    dnnl_memory_desc_destroy(md);
                }
            }
        }
    }

    /** One weight matrix in the format, in oneDNN's layout, and the products that read it. */
    private static final class PackedWeights {
        private final int k;
        private final int n;
        private final Format format;
        private final dnnl_memory_desc layout;
        private final OneDnn.AlignedBuffer data = new OneDnn.AlignedBuffer();
        /** The layers' shared primitives (all weights in one format and of one shape have one layout). */
        private final ConcurrentHashMap<CallKey, Call> calls;

        PackedWeights(Tensor w, int k, int n, int ld, int paddedK, int paddedN, Format format,
                      ConcurrentHashMap<CallKey, Call> calls) {
            this.k = paddedK;
            this.n = paddedN;
            this.format = format;
            this.calls = calls;
            this.layout = chooseLayout(paddedK, paddedN, format);
            boolean padding = paddedK != k || paddedN != n;
            FloatPointer zeroPadded = padding ? zeroPadded(w, k, n, ld, paddedK, paddedN) : null;
            dnnl_memory_desc source = OneDnn.matrix(dnnl_f32, paddedK, paddedN, 1, padding ? paddedK : ld);
            OneDnn.Primitive convert = OneDnn.reorder(source, layout, "weights to " + format);
            try {
                OneDnn.execute(convert, new int[] {DNNL_ARG_FROM, DNNL_ARG_TO},
                        new dnnl_memory_desc[] {source, layout},
                        new Pointer[] {padding ? OneDnn.at(zeroPadded) : address(w),
                            data.atLeast(OneDnn.bytes(layout))});
            } finally {
                convert.destroy();
                dnnl_memory_desc_destroy(source);
                if (zeroPadded != null) {
                    zeroPadded.close();
                }
            }
        }

        /** W copied into a zeroed paddedK × paddedN fp32 matrix of the same layout, ld = paddedK. */
        private static FloatPointer zeroPadded(Tensor w, int k, int n, int ld, int paddedK, int paddedN) {
            FloatPointer padded = new FloatPointer((long) paddedK * paddedN);
            padded.zero();
            FloatPointer source = ((HostStorage) w.storage()).pointerAt(w.offset());
            float[] column = new float[k];
            for (int j = 0; j < n; j++) {
                source.position(w.offset() + (long) j * ld).get(column);
                padded.position((long) j * paddedK).put(column);
            }
            return padded.position(0);
        }

        /** The layout oneDNN's matmul picks for these weights when left free to. */
        private static dnnl_memory_desc chooseLayout(int k, int n, Format format) {
            dnnl_memory_desc src = OneDnn.matrix(format.dataType, LAYOUT_ROWS, k, k, 1);
            dnnl_memory_desc dst = OneDnn.matrix(dnnl_f32, LAYOUT_ROWS, n, n, 1);
            dnnl_memory_desc any = new dnnl_memory_desc();
            OneDnn.check(dnnl_memory_desc_create_with_tag(any, 2, new long[] {k, n}, format.dataType,
                            dnnl_format_tag_any),
                    "weights descriptor");
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            try {
                OneDnn.check(dnnl_matmul_primitive_desc_create(pd, OneDnn.engine(), src, any, null, dst, null),
                        "matmul " + k + "->" + n + " layout");
                return OneDnn.copy(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0));
            } finally {
                dnnl_primitive_desc_destroy(pd);
                for (dnnl_memory_desc md : new dnnl_memory_desc[] {src, dst, any}) {
                    dnnl_memory_desc_destroy(md);
                }
            }
        }

        /**
         * dst [rows, n] = src [rows, k] (in the format) · W (+ bias) (+ residual), GELU'd where
         * {@code gelu}; dst in the format where {@code dstInFormat} (what a next product reads),
         * else fp32; dst's and the residual's rows {@code ld} apart (n, or a column half's
         * whole layer).
         */
        void multiply(Pointer src, int rows, Pointer bias, Pointer residual, Pointer dst, int ld, boolean dstInFormat,
                      boolean gelu) {
            Call call = calls.computeIfAbsent(new CallKey(rows, k, n, ld, dstInFormat, bias != null, residual != null, gelu),
                    this::create);
            List<Integer> args = new ArrayList<>(List.of(DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST));
            List<dnnl_memory_desc> mds = new ArrayList<>(List.of(call.src(), call.weights(), call.dst()));
            List<Pointer> ptrs = new ArrayList<>(List.of(src, data.atLeast(0), dst));
            if (bias != null) {
                args.add(DNNL_ARG_BIAS);
                mds.add(call.bias());
                ptrs.add(bias);
            }
            if (residual != null) {
                args.add(RESIDUAL_ARG);
                mds.add(call.residual());
                ptrs.add(residual);
            }
            OneDnn.execute(call.primitive(), args.stream().mapToInt(Integer::intValue).toArray(),
                    mds.toArray(dnnl_memory_desc[]::new), ptrs.toArray(Pointer[]::new));
        }

        private Call create(CallKey key) {
            int rows = key.rows();
            dnnl_memory_desc src = OneDnn.matrix(format.dataType, rows, k, k, 1);
            dnnl_memory_desc dst = OneDnn.matrix(key.dstInFormat() ? format.dataType : dnnl_f32, rows, n, key.ld(), 1);
            dnnl_memory_desc bias = key.bias() ? OneDnn.matrix(dnnl_f32, 1, n, n, 1) : null;
            dnnl_memory_desc residual = key.residual() ? OneDnn.matrix(dnnl_f32, rows, n, key.ld(), 1) : null;
            dnnl_primitive_attr attr = OneDnn.userScratchpad();
            dnnl_post_ops postOps = null;
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            try {
                if (residual != null || key.gelu()) {
                    postOps = new dnnl_post_ops();
                    OneDnn.check(dnnl_post_ops_create(postOps), "post-ops create");
                    if (residual != null) {
                        OneDnn.check(dnnl_post_ops_append_binary(postOps, dnnl_binary_add, residual),
                                "residual post-op");
                    }
                    if (key.gelu()) {
                        OneDnn.check(dnnl_post_ops_append_eltwise(postOps, dnnl_eltwise_gelu_erf, 0f, 0f),
                                "GELU post-op");
                    }
                    OneDnn.check(dnnl_primitive_attr_set_post_ops(attr, postOps), "post-ops");
                }
                String what = format + " matmul [" + rows + ", " + k + "] x [" + k + ", " + n + "]";
                OneDnn.check(dnnl_matmul_primitive_desc_create(pd, OneDnn.engine(), src, layout, bias, dst, attr), what);
                return new Call(OneDnn.Primitive.of(pd, what), src, OneDnn.copy(layout), bias, residual, dst);
            } finally {
                dnnl_primitive_desc_destroy(pd);
                dnnl_primitive_attr_destroy(attr);
                if (postOps != null) {
                    dnnl_post_ops_destroy(postOps);
                }
            }
        }

        void destroy() {
            dnnl_memory_desc_destroy(layout);
            data.release();
        }
    }
}
