package dev.flora.engine.cpu;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.LAPACK_ROW_MAJOR;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Checks;
import dev.flora.engine.backend.LayerNormWeights;
import dev.flora.engine.backend.LinearProduct;
import dev.flora.engine.backend.LossResult;
import dev.flora.engine.backend.OpContracts;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.backend.Region;
import dev.flora.engine.tensor.HostStorage;
import dev.flora.engine.tensor.Storage;
import dev.flora.engine.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;

/**
 * The CPU backend: GEMM and SVD from OpenBLAS (through JavaCPP, on off-heap memory with no
 * copies), everything else in Java, except attention's strided-batched products, the softmax
 * and GELU's and layer norm's backward, which fp32 training runs on oneDNN
 * ({@link OneDnnMatmuls}, {@link OneDnnSoftmax}, {@link OneDnnGelu},
 * {@link OneDnnLayerNormBackward}): at DeiT shapes OpenBLAS's one small sgemm per (image, head)
 * and our own loops ran slower. The package-private constructor for the kernels' tests keeps
 * those on OpenBLAS and our loops.
 *
 * <p>One thread pool does all the parallel work: OpenBLAS runs single-threaded and
 * {@link GemmScheduler} splits each GEMM across {@link Parallel}'s workers: two pools
 * (OpenBLAS's spinning workers and ours) would compete for the same cores. Batches of 32
 * images and more are split instead into lanes ({@link #batchLanes}) that run as whole tasks
 * on the pool, each lane's ops on its own worker: no hand-offs between ops, and a lane's
 * activations stay in cache, which beats splitting every op across the workers.
 *
 * <p>Element-wise loops copy blocks of the off-heap tensors into float arrays, compute there
 * (HotSpot vectorizes plain array loops, not buffer accesses) and copy back. Layernorm, softmax
 * and GELU's forward are {@link CpuKernels}, with the Vector API where the JVM has it. Sums
 * over rows use a fixed number of row chunks whose partial sums are added in order, so results
 * never depend on the number of threads or their timing.
 *
 * <p>Two backends are for inference only. In {@link Precision#BF16} the linear layers' forward
 * products run in bf16 through oneDNN ({@link OneDnnLinears}), with their weights converted once
 * and kept; {@link #fp32Inference()} runs them so in fp32 (oneDNN's fp32 kernels on a blocked copy
 * of the weights). Both run each MLP as one op ({@link #mlpForward}), attention with its two
 * projections as another ({@link #selfAttentionForward}: its products in their own precision,
 * and the softmax, on oneDNN: {@link OneDnnAttention}) and layer
 * normalization too ({@link OneDnnLayerNorm}), and leave the low-rank forward's h and the
 * layernorm's statistics unwritten, since no backward will read them. The
 * {@link #mixedPrecisionTraining() mixed-precision training} backend
 * instead runs the block and head linear layers' products (dense and low-rank), forward and
 * backward, in bf16 with fp32 accumulation ({@link Bf16Gemm}), converting the operands on each
 * call so that the weights may change between calls, and attention's batched products
 * ({@link #gemmStridedBatched}) the same way, as PyTorch's bf16 autocast does. The weights,
 * gradients and optimizer state stay fp32, and so do the softmax and its probabilities, the patch
 * embedding and the general {@link #gemm}, which calibration and export use to compute weights.
 * The softmax and GELU's and layer norm's backward run on oneDNN in fp32, as in fp32 training.
 */
public final class CpuBackend implements Backend {
    /** {@link #name()} of the fp32 backend that can train (OpenBLAS). */
    public static final String TRAINING_NAME = "cpu";
    /** {@link #name()} of {@link #fp32Inference()}. */
    public static final String FP32_INFERENCE_NAME = "cpu/fp32-inference";
    /** Floats per scratch block of element-wise loops (fits L1 with room to spare). */
    static final int BLOCK = 4096;
    /** Layernorm, softmax and GELU's loops. */
    private final CpuKernels kernels;
    /** The linear layers' products through oneDNN for inference (bf16 or fp32), or null. */
    private final OneDnnLinears inference;
    /** The linear layers' products, forward and backward, in bf16 for training, or null. */
    private final Bf16Gemm mixed;
    /** Attention's products through oneDNN in {@link #inference}'s precision, or null. */
    private final OneDnnAttention attention;
    /** Softmax rows on oneDNN (inference and training), else null (the kernels' tests). */
    private final OneDnnSoftmax rowSoftmax;
    /** GELU's backward on oneDNN in training, else null (inference, and the kernels' tests). */
    private final OneDnnGelu geluBackward;
    /** Layer norm's backward on oneDNN in training, else null. */
    private final OneDnnLayerNormBackward layerNormBackward;
    /** fp32 training's strided batches on oneDNN, else null. */
    private final OneDnnMatmuls fp32Batches;
    /** Attention's strided batches on oneDNN in training (bf16 or fp32), else null. */
    private final StridedBatches trainingBatches;
    /** Layer normalization through oneDNN where {@link #inference} is, else null. */
    private final OneDnnLayerNorm layerNorm;
    /**
     * Fewest floats worth a parallel task: waking a parked worker costs more than a few thousand
     * floats of work, and single-image inference is made of such ops.
     */
    private static final int TASK_GRAIN = 1 << 15;
    /**
     * Images per lane of a split batch (see {@link #batchLanes}): 16 images of vit-fmnist are
     * 800 token rows, enough for OpenBLAS to run near its single-core peak, and their
     * activations stay in L2. -Dflora.lane-images=0 keeps batches whole.
     */
    private static final int LANE_IMAGES = Integer.getInteger("flora.lane-images", 16);
    /** Most lanes per batch: enough tasks for 16 cores, few gradient blocks to fold. */
    private static final int MAX_LANES = 16;
    /** Row chunks of a column reduction; fixed so the summation order is fixed. */
    private static final int REDUCE_CHUNKS = 16;
    /** Per calling thread: the bias gradient's per-chunk column sums. */
    private static final ThreadLocal<GrowingTensor> BIAS_PARTIALS = ThreadLocal.withInitial(GrowingTensor::new);
    /** gemmStridedBatched's arguments at float offsets, beta 0 or (accumulate) 1: oneDNN's strided batches. */
    @FunctionalInterface
    private interface StridedBatches {
        void run(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long aOff, int lda,
                 long strideA, Tensor b, long bOff, int ldb, long strideB, boolean accumulate, Tensor c, long cOff,
                 int ldc, long strideC, int batch);
    }

    /** Per calling thread: h of a mixed-precision low-rank forward that was given none to write. */
    private static final ThreadLocal<GrowingTensor> LOW_RANK_MID = ThreadLocal.withInitial(GrowingTensor::new);

    static {
        OpenBlasKernels.ensureLoaded();
    }

    /** The kernels this JVM supports best ({@link CpuKernels#selected()}), in fp32. */
    public CpuBackend() {
        this(CpuKernels.selected(), Precision.FP32);
    }

    /**
     * fp32, or bf16 linear layers for inference ({@link OneDnnLinears}); bf16 needs a CPU with
     * AVX512-BF16 ({@link #bf16UnsupportedReason()} says whether this one has it).
     */
    public CpuBackend(Precision precision) {
        this(CpuKernels.selected(), precision);
    }

    /**
     * With the given layernorm, softmax and GELU loops (the tests run both kinds), and attention
     * on OpenBLAS, so that those loops, not oneDNN's, run every op.
     */
    CpuBackend(CpuKernels kernels) {
        this(kernels, Precision.FP32, false, true, false);
    }

    private CpuBackend(CpuKernels kernels, Precision precision) {
        this(kernels, precision, false, true, true);
    }

    /**
     * bf16 on any CPU, converting in software where it lacks the instructions (slow): for tests
     * of the bf16 arithmetic on machines without AVX512-BF16.
     */
    static CpuBackend bf16OnAnyCpu() {
        return new CpuBackend(CpuKernels.selected(), Precision.BF16, false, false, true);
    }

    /**
     * Mixed-precision training: the linear layers' products forward and backward in bf16 with
     * fp32 accumulation, everything else fp32 (see the class comment). Needs AVX512-BF16, as
     * {@link #CpuBackend(Precision)} does in bf16.
     */
    public static CpuBackend mixedPrecisionTraining() {
        return new CpuBackend(CpuKernels.selected(), Precision.BF16, true, true, true);
    }

    /**
     * fp32 for inference only: the linear layers' products through oneDNN's fp32 matmul on
     * weights copied once into its blocked layout (see the class comment); any x86-64 CPU.
     */
    public static CpuBackend fp32Inference() {
        return new CpuBackend(CpuKernels.selected(), new OneDnnLinears(OneDnnLinears.Format.F32));
    }

    private CpuBackend(CpuKernels kernels, OneDnnLinears inference) {
        this.kernels = kernels;
        this.inference = inference;
        this.mixed = null;
        this.attention = new OneDnnAttention(inference.format());
        this.rowSoftmax = new OneDnnSoftmax();
        this.geluBackward = null;
        this.layerNormBackward = null;
        this.fp32Batches = null;
        this.trainingBatches = null;
        this.layerNorm = new OneDnnLayerNorm();
    }

    /** {@link #mixedPrecisionTraining()} on any CPU (slow without AVX512-BF16), for tests. */
    static CpuBackend mixedPrecisionTrainingOnAnyCpu() {
        return new CpuBackend(CpuKernels.selected(), Precision.BF16, true, false, true);
    }

    /**
     * {@code mixed}: bf16 training; else bf16 is inference. {@code oneDnnOps}: fp32 runs
     * attention's products, the softmax and GELU's and layer norm's backward on oneDNN (off for the
     * kernels' tests).
     */
    private CpuBackend(CpuKernels kernels, Precision precision, boolean mixed, boolean needFastBf16,
                       boolean oneDnnOps) {
        this.kernels = kernels;
        if (precision == Precision.TF32) {
            throw new IllegalArgumentException("tf32 is a GPU tensor-core format; the CPU runs fp32 or bf16");
        }
        if (precision == Precision.BF16 && needFastBf16) {
            String why = bf16UnsupportedReason();
            if (why != null) {
                throw new IllegalArgumentException("bf16 on the CPU: " + why);
            }
        }
        boolean inBf16 = precision == Precision.BF16;
        this.inference = inBf16 && !mixed ? new OneDnnLinears(OneDnnLinears.Format.BF16) : null;
        this.mixed = inBf16 && mixed ? new Bf16Gemm() : null;
        this.attention = this.inference != null ? new OneDnnAttention(this.inference.format()) : null;
        this.fp32Batches = !inBf16 && oneDnnOps ? new OneDnnMatmuls() : null;
        this.trainingBatches = this.mixed != null ? this.mixed::multiplyBatched
                : this.fp32Batches != null ? this.fp32Batches::fp32Batch : null;
        this.rowSoftmax = inBf16 || oneDnnOps ? new OneDnnSoftmax() : null;
        this.geluBackward = this.trainingBatches != null ? new OneDnnGelu() : null;
        this.layerNormBackward = this.trainingBatches != null ? new OneDnnLayerNormBackward() : null;
        this.layerNorm = this.inference != null ? new OneDnnLayerNorm() : null;
    }

    /** Null where this CPU runs bf16 products at full speed, else why not. */
    public static String bf16UnsupportedReason() {
        return OneDnn.bf16UnsupportedReason();
    }

    /** The instruction set oneDNN's products in this format run on here ("AMX", "AVX-512", …). */
    public static String oneDnnIsa(Precision precision) {
        return OneDnn.isaName(precision == Precision.BF16);
    }

    /** Weight matrices the oneDNN products have copied and keep (0 on OpenBLAS). */
    int packedWeightCount() {
        return inference == null ? 0 : inference.packedWeightCount();
    }

    /** Product primitives the oneDNN linear layers have created and keep (0 on OpenBLAS). */
    int productPrimitiveCount() {
        return inference == null ? 0 : inference.productPrimitiveCount();
    }

    /** FP32, or BF16 when the linear layers' products run in bf16. */
    public Precision precision() {
        boolean inBf16 = mixed != null || inference != null && inference.format() == OneDnnLinears.Format.BF16;
        return inBf16 ? Precision.BF16 : Precision.FP32;
    }

    /** True for inference through oneDNN, whose products read weights converted once and kept. */
    @Override
    public boolean inferenceOnly() {
        return inference != null;
    }

    @Override
    public boolean holdsCopyOf(Tensor w) {
        return inference != null && inference.holds(w);
    }

    @Override
    public String name() {
        if (inference != null) {
            return inference.format() == OneDnnLinears.Format.BF16 ? "cpu/bf16" : FP32_INFERENCE_NAME;
        }
        return mixed != null ? "cpu/bf16-training" : TRAINING_NAME;
    }

    /** What runs layernorm, softmax and GELU here ("Vector API, 16 floats" or "scalar loops"). */
    public String rowKernels() {
        return kernels.describe();
    }

    // ---- memory ---------------------------------------------------------------------------

    @Override
    public Tensor allocate(int... shape) {
        return new Tensor(new HostStorage(Tensor.product(shape)), 0, shape);
    }

    @Override
    public Tensor allocateParameters(int floats) {
        return new Tensor(HostStorage.releasable(floats), 0, floats);
    }

    @Override
    public void release(Tensor parameters, String why) {
        ((HostStorage) parameters.storage()).release(why);
    }

    static FloatBuffer buf(Tensor t) {
        Storage s = t.storage();
        if (!(s instanceof HostStorage host)) {
            throw new IllegalArgumentException("tensor " + t + " does not live in host memory");
        }
        return host.buffer();
    }

    static int base(Tensor t) {
        buf(t);
        return (int) t.offset();
    }

    static FloatPointer ptr(Tensor t, long extra) {
        buf(t);
        return ((HostStorage) t.storage()).pointerAt(t.offset() + extra);
    }

    private static int rowsPerTask(int cols) {
        return Math.max(1, TASK_GRAIN / Math.max(1, cols));
    }

    private static int len(long n) {
        return Math.toIntExact(n);
    }

    @Override
    public void upload(float[] src, int srcOffset, Tensor dst) {
        buf(dst).put(base(dst), src, srcOffset, len(dst.numel()));
    }

    @Override
    public void download(Tensor src, float[] dst, int dstOffset) {
        buf(src).get(base(src), dst, dstOffset, len(src.numel()));
    }

    /** The first n floats of t in this thread's scratch slot, for an op's loop bodies to read. */
    private static float[] opVector(Tensor t, int n, int slot) {
        float[] v = Scratch.floats(slot, n);
        buf(t).get(base(t), v, 0, n);
        return v;
    }

    @Override
    public void fill(Tensor t, float value) {
        FloatBuffer b = buf(t);
        int o = base(t);
        Parallel.forRange(len(t.numel()), TASK_GRAIN, (s, e) -> {
            float[] v = Scratch.floats(Scratch.BODY_A, BLOCK);
            Arrays.fill(v, 0, Math.min(BLOCK, e - s), value);
            for (int i = s; i < e; i += BLOCK) {
                b.put(o + i, v, 0, Math.min(BLOCK, e - i));
            }
        });
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        OpContracts.copy(src, dst);
        buf(dst).put(base(dst), buf(src), base(src), len(src.numel()));
    }

    @Override
    public void copy2d(Tensor src, int srcStride, Tensor dst, int dstStride, int rows, int cols) {
        OpContracts.copy2d(src, srcStride, dst, dstStride, rows, cols);
        FloatBuffer sb = buf(src);
        FloatBuffer db = buf(dst);
        int so = base(src);
        int d0 = base(dst);
        Parallel.forRange(rows, rowsPerTask(cols), (s, e) -> {
            for (int r = s; r < e; r++) {
                db.put(d0 + r * dstStride, sb, so + r * srcStride, cols);
            }
        });
    }

    // ---- BLAS -----------------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, int lda,
                     Tensor b, int ldb, float beta, Tensor c, int ldc) {
        OpContracts.gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
        GemmScheduler.run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, null);
    }

    /**
     * The bias (and the residual) are written into y first and the GEMM accumulates onto them
     * (beta = 1). With beta = 0 OpenBLAS clears y in a pass of its own before it accumulates, so
     * this costs one pass over y where a GEMM, a bias add and a residual add cost three or four.
     */
    @Override
    public void linearForward(Tensor x, Tensor w, Tensor bias, Tensor residual, Tensor y, int rows, int in,
                              int out) {
        OpContracts.linearForward(x, w, bias, residual, y, rows, in, out);
        if (rows == 0) {
            return;
        }
        if (inference != null) {
            inference.forward(x, new LinearProduct.Dense(w, bias, in, out), residual, y, rows);
            return;
        }
        if (mixed != null) {
            oneDnnThreads(false);
            mixed.linear(x, 0, in, w, in, bias, residual, y, rows, in, out);
            return;
        }
        float[] b = opVector(bias, out, Scratch.OP_A);
        GemmScheduler.run(false, true, rows, out, in, 1f, x, in, w, in, 1f, y, out,
                (rowLo, rowHi, colLo, colHi) -> writeBiasRows(y, b, residual, out, rowLo, rowHi, colLo, colHi));
    }

    /**
     * y[r, c] = b[c] (+ residual[r, c]) for rows [rowLo, rowHi) and columns [colLo, colHi) of
     * y and residual [rows, cols]: what a linear layer's GEMM then accumulates onto.
     */
    static void writeBiasRows(Tensor y, float[] b, Tensor residual, int cols, int rowLo, int rowHi, int colLo,
                              int colHi) {
        FloatBuffer yb = buf(y);
        int yo = base(y);
        int n = colHi - colLo;
        if (residual == null) {
            for (int r = rowLo; r < rowHi; r++) {
                yb.put(yo + r * cols + colLo, b, colLo, n);
            }
            return;
        }
        FloatBuffer rb = buf(residual);
        int ro = base(residual);
        float[] row = Scratch.floats(Scratch.BODY_A, n);
        float[] bias = colLo == 0 ? b : Arrays.copyOfRange(b, colLo, colHi);
        for (int r = rowLo; r < rowHi; r++) {
            int off = r * cols + colLo;
            rb.get(ro + off, row, 0, n);
            addRow(row, bias, n);
            yb.put(yo + off, row, 0, n);
        }
    }

    /**
     * row[j] += v[j], j &lt; n: every "add one row to another" loop of the CPU backend, so that
     * all of them index both arrays alike. The bias-and-residual prefill used to read
     * {@code b[colLo + j]} in its own loop; with this method instead, the layers that carry a
     * residual took less time per call in the op profile (the others did not change). Why is not
     * established: a JMH test of the two loop forms on their own
     * ({@code LoopVectorizationBenchmark}) finds both vectorized.
     */
    static void addRow(float[] row, float[] v, int n) {
        for (int j = 0; j < n; j++) {
            row[j] += v[j];
        }
    }

    @Override
    public void linearBackward(Tensor dy, Tensor x, Tensor w, Tensor dW, Tensor dBias, Tensor dx, int rows, int in,
                               int out) {
        if (mixed == null) {
            Backend.super.linearBackward(dy, x, w, dW, dBias, dx, rows, in, out);
            return;
        }
        OpContracts.gemm(true, false, out, in, rows, dy, out, x, in, dW, in);
        OpContracts.gemm(false, false, rows, in, out, dy, out, w, in, dx, in);
        oneDnnThreads(false);
        // dy is read by both products: converted once
        Bf16Gemm.Converted dyB = mixed.convert(dy, 0, rows, out, out, 0);
        mixed.multiply(dyB, true, mixed.convert(x, 0, rows, in, in, 1), false, true, dW, 0, in);
        accumulateBiasGrad(dy, dBias, rows, out);
        mixed.multiply(dyB, false, mixed.convert(w, 0, out, in, in, 1), false, false, dx, 0, in);
    }

    /** One OpenBLAS call on host tensors at float offsets, on the calling thread, unsplit. */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long aOff,
                              int lda, Tensor b, long bOff, int ldb, float beta, Tensor c, long cOff, int ldc) {
        openblas.cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, ptr(a, aOff), lda, ptr(b, bOff), ldb, beta, ptr(c, cOff), ldc);
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                   Tensor a, int lda, long strideA, Tensor b, int ldb, long strideB,
                                   float beta, Tensor c, int ldc, long strideC, int batch) {
        OpContracts.gemmStridedBatched(transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc,
                strideC, batch);
        if (trainingBatches != null && (beta == 0f || beta == 1f) && OneDnnMatmuls.handles(m, n, k, batch)) {
            oneDnnThreads(false);
            trainingBatches.run(transA, transB, m, n, k, alpha, a, 0, lda, strideA, b, 0, ldb, strideB, beta == 1f,
                    c, 0, ldc, strideC, batch);
            return;
        }
        GemmScheduler.runBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc,
                strideC, batch);
    }

    @Override
    public void lowRankForward(Tensor x, Tensor vt, Tensor u, Tensor bias, Tensor residual, Tensor h, Tensor y,
                               int rows, int in, int out, int r, int maxRank) {
        OpContracts.lowRankForward(x, vt, u, bias, residual, h, y, rows, in, out, r, maxRank);
        if (inference != null) {
            if (rows > 0) {
                inference.forward(x, new LinearProduct.LowRank(vt, u, bias, in, out, r, maxRank), residual, y, rows);
            }
            return;
        }
        if (mixed != null) {
            mixedLowRankForward(x, vt, u, bias, residual, h, y, rows, in, out, r, maxRank);
            return;
        }
        CpuLowRank.forward(x, vt, u, bias, residual, h, y, rows, in, out, r, maxRank);
    }

    /** Each weight's fp32 pages are returned as soon as oneDNN's copy of it is made. */
    @Override
    public void whileCopyingWeightsToRelease(Runnable body) {
        if (inference == null) {
            body.run();
        } else {
            inference.discardingSources(body);
        }
    }

    /**
     * Inference through oneDNN runs the MLP as {@link OneDnnLinears#mlp} does: GELU as fc1's
     * product is written (an eltwise post-op), the hidden activations in the products' format.
     */
    @Override
    public boolean fusesMlp() {
        return inference != null;
    }

    @Override
    public void mlpForward(Tensor x, LayerNormWeights norm, LinearProduct fc1, LinearProduct fc2, Tensor residual,
                           Tensor y, int rows) {
        OpContracts.mlpForward(x, norm, fc1, fc2, residual, y, rows);
        if (inference == null) {
            throw new UnsupportedOperationException(name() + " does not fuse the MLP's products");
        }
        if (rows > 0) {
            inference.mlp(x, norm, fc1, fc2, residual, y, rows);
        }
    }

    /** Inference through oneDNN runs attention with its projections as {@link OneDnnAttention#selfAttention} does. */
    @Override
    public boolean fusesSelfAttention() {
        return attention != null;
    }

    @Override
    public void selfAttentionForward(Tensor x, LayerNormWeights norm, LinearProduct qkv, LinearProduct proj,
                                     Tensor residual, Tensor y, int batch, int tokens, int heads, int headDim,
                                     float scale) {
        OpContracts.selfAttentionForward(x, norm, qkv, proj, residual, y, batch, tokens, heads, headDim);
        if (attention == null) {
            throw new UnsupportedOperationException(name() + " does not fuse attention's products");
        }
        if (batch > 0 && tokens > 0) {
            attention.selfAttention(inference, x, norm, qkv, proj, residual, y, batch, tokens, heads, headDim, scale);
        }
    }

    /**
     * dh = dy · U[:, :r], dU[:, :r] += dyᵀ · h, dx = dh · VT[:r], dVT[:r] += dhᵀ · x, all in bf16
     * with each operand converted once; dBias += Σ dy in fp32.
     */
    private void mixedLowRankBackward(Tensor dy, Tensor x, Tensor h, Tensor vt, Tensor u, Tensor dh, Tensor dx,
                                      Tensor dVt, Tensor dU, Tensor dBias, int rows, int in, int out, int r,
                                      int maxRank) {
        oneDnnThreads(false);
        Bf16Gemm.Converted dyB = mixed.convert(dy, 0, rows, out, out, 0);
        Bf16Gemm.Converted uB = mixed.convert(u, 0, out, r, maxRank, 1);
        mixed.multiply(dyB, false, uB, false, false, dh, 0, r);
        Bf16Gemm.Converted hB = mixed.convert(h, 0, rows, r, r, 2);
        mixed.multiply(dyB, true, hB, false, true, dU, 0, maxRank);
        Bf16Gemm.Converted dhB = mixed.convert(dh, 0, rows, r, r, 3);
        Bf16Gemm.Converted vtB = mixed.convert(vt, 0, r, in, in, 1);
        mixed.multiply(dhB, false, vtB, false, false, dx, 0, in);
        Bf16Gemm.Converted xB = mixed.convert(x, 0, rows, in, in, 2);
        mixed.multiply(dhB, true, xB, false, true, dVt, 0, in);
        accumulateBiasGrad(dy, dBias, rows, out);
    }

    /** h = x · VT[:r]ᵀ, y = h · U[:, :r]ᵀ + b (+ residual), both products in bf16. */
    private void mixedLowRankForward(Tensor x, Tensor vt, Tensor u, Tensor bias, Tensor residual, Tensor h,
                                     Tensor y, int rows, int in, int out, int r, int maxRank) {
        if (rows == 0) {
            return;
        }
        Tensor mid = h != null ? h : LOW_RANK_MID.get().get((long) rows * r);
        oneDnnThreads(false);
        mixed.multiply(false, true, rows, r, in, x, 0, in, vt, 0, in, false, mid, 0, r);
        if (r == 0) { // nothing to multiply: the bias (and the residual) alone
            writeBiasRows(y, opVector(bias, out, Scratch.OP_A), residual, out, 0, rows, 0, out);
            return;
        }
        mixed.linear(mid, 0, r, u, maxRank, bias, residual, y, rows, r, out);
    }

    @Override
    public void lowRankBackward(Tensor dy, Tensor x, Tensor h, Tensor vt, Tensor u, Tensor dh, Tensor dx, Tensor dVt,
                                Tensor dU, Tensor dBias, int rows, int in, int out, int r, int maxRank) {
        OpContracts.lowRankBackward(dy, x, h, vt, u, dh, dx, dVt, dU, dBias, rows, in, out, r, maxRank);
        if (mixed != null) {
            if (rows > 0) {
                mixedLowRankBackward(dy, x, h, vt, u, dh, dx, dVt, dU, dBias, rows, in, out, r, maxRank);
            }
            return;
        }
        CpuLowRank.backward(dy, x, h, vt, u, dh, dx, dVt, dU, dBias, rows, in, out, r, maxRank);
    }

    // ---- element-wise ---------------------------------------------------------------------

    @Override
    public void addBias(Tensor y, Tensor bias, int rows, int cols) {
        OpContracts.addBias(y, bias, rows, cols);
        FloatBuffer yb = buf(y);
        int yo = base(y);
        float[] bv = opVector(bias, cols, Scratch.OP_A);
        Parallel.forRange(rows, rowsPerTask(cols), (s, e) -> {
            float[] row = Scratch.floats(Scratch.BODY_A, cols);
            for (int r = s; r < e; r++) {
                int off = yo + r * cols;
                yb.get(off, row, 0, cols);
                addRow(row, bv, cols);
                yb.put(off, row, 0, cols);
            }
        });
    }

    @Override
    public void accumulateBiasGrad(Tensor dy, Tensor dBias, int rows, int cols) {
        OpContracts.accumulateBiasGrad(dy, dBias, rows, cols);
        int chunks = reduceChunks(rows, cols);
        if (chunks == 1) {
            ColumnSums.sum(dy, 0, rows, cols, 1f, dBias, 0);
            return;
        }
        Tensor partials = BIAS_PARTIALS.get().get((long) chunks * cols);
        Parallel.forRange(chunks, 1, (s, e) -> {
            for (int c = s; c < e; c++) {
                int lo = Parallel.chunkStart(rows, chunks, c);
                int hi = Parallel.chunkStart(rows, chunks, c + 1);
                ColumnSums.sum(dy, (long) lo * cols, hi - lo, cols, 0f, partials, (long) c * cols);
            }
        });
        ColumnSums.addParts(dBias, cols, partials, 0, cols, chunks, 1, cols);
    }

    /** Fixed row chunks of a column reduction: the count depends only on the shape, so the summation order is fixed for it. */
    private static int reduceChunks(int rows, int cols) {
        return (int) Math.max(1, Math.min(Math.min(REDUCE_CHUNKS, rows), (long) rows * cols / TASK_GRAIN));
    }

    /** Accumulates per-column sums of a row range [start, end) into {@code acc[q][cols]}. */
    @FunctionalInterface
    private interface RowRangeSums {
        void run(int start, int end, float[][] acc);
    }

    /**
     * Runs {@code body} over {@link #REDUCE_CHUNKS} fixed row chunks in parallel and returns the
     * per-chunk sums, indexed [quantity][chunk][column].
     */
    private static float[][][] columnPartials(int rows, int cols, int quantities, RowRangeSums body) {
        int chunks = reduceChunks(rows, cols);
        float[][][] out = new float[quantities][chunks][cols];
        Parallel.forRange(chunks, 1, (s, e) -> {
            for (int c = s; c < e; c++) {
                float[][] acc = new float[quantities][];
                for (int q = 0; q < quantities; q++) {
                    acc[q] = out[q][c];
                }
                body.run(Parallel.chunkStart(rows, chunks, c), Parallel.chunkStart(rows, chunks, c + 1), acc);
            }
        });
        return out;
    }

    /** target[j] += sum over chunks of partial[chunk][j], chunks added in order. */
    private void addPartials(Tensor target, float[][] partial, int cols) {
        float[] t = download(target.head(cols));
        for (int j = 0; j < cols; j++) {
            double s = t[j];
            for (float[] p : partial) {
                s += p[j];
            }
            t[j] = (float) s;
        }
        buf(target).put(base(target), t, 0, cols);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out, long n) {
        OpContracts.add(a, b, out, n);
        FloatBuffer ab = buf(a);
        FloatBuffer bb = buf(b);
        FloatBuffer ob = buf(out);
        int ao = base(a);
        int bo = base(b);
        int oo = base(out);
        Parallel.forRange(len(n), TASK_GRAIN, (s, e) -> {
            float[] x = Scratch.floats(Scratch.BODY_A, BLOCK);
            float[] y = Scratch.floats(Scratch.BODY_B, BLOCK);
            for (int i = s; i < e; i += BLOCK) {
                int l = Math.min(BLOCK, e - i);
                ab.get(ao + i, x, 0, l);
                bb.get(bo + i, y, 0, l);
                addRow(x, y, l);
                ob.put(oo + i, x, 0, l);
            }
        });
    }

    @Override
    public void scale(Tensor t, float s, long n) {
        OpContracts.elementwise(t, n, "scale");
        FloatBuffer tb = buf(t);
        int to = base(t);
        Parallel.forRange(len(n), TASK_GRAIN, (st, e) -> {
            float[] x = new float[BLOCK];
            for (int i = st; i < e; i += BLOCK) {
                int l = Math.min(BLOCK, e - i);
                tb.get(to + i, x, 0, l);
                for (int j = 0; j < l; j++) {
                    x[j] *= s;
                }
                tb.put(to + i, x, 0, l);
            }
        });
    }

    @Override
    public double sumOfSquares(Tensor t, long n) {
        OpContracts.elementwise(t, n, "sumOfSquares");
        FloatBuffer tb = buf(t);
        int to = base(t);
        int total = len(n);
        int chunks = 64;
        double[] partial = new double[chunks];
        Parallel.forRange(chunks, Math.max(1, (int) ((long) TASK_GRAIN * chunks / Math.max(1, total))), (s, e) -> {
            float[] x = new float[BLOCK];
            for (int c = s; c < e; c++) {
                int lo = Parallel.chunkStart(total, chunks, c);
                int hi = Parallel.chunkStart(total, chunks, c + 1);
                double acc = 0;
                for (int i = lo; i < hi; i += BLOCK) {
                    int l = Math.min(BLOCK, hi - i);
                    tb.get(to + i, x, 0, l);
                    for (int j = 0; j < l; j++) {
                        acc += (double) x[j] * x[j];
                    }
                }
                partial[c] = acc;
            }
        });
        double sum = 0;
        for (double p : partial) {
            sum += p;
        }
        return sum;
    }

    @Override
    public void geluForward(Tensor x, Tensor y, long n) {
        OpContracts.geluForward(x, y, n);
        Parallel.forRange(len(n), TASK_GRAIN, (s, e) -> kernels.geluForward(x, y, s, e));
    }

    @Override
    public void geluBackward(Tensor x, Tensor dy, Tensor dx, long n) {
        OpContracts.geluBackward(x, dy, dx, n);
        if (geluBackward != null) {
            Parallel.forRange(len(n), TASK_GRAIN, (s, e) -> {
                oneDnnThreads(e - s < n);
                geluBackward.backward(x, dy, dx, s, e - s);
            });
            return;
        }
        FloatBuffer xb = buf(x);
        FloatBuffer gb = buf(dy);
        FloatBuffer db = buf(dx);
        int xo = base(x);
        int go = base(dy);
        int dO = base(dx);
        Parallel.forRange(len(n), TASK_GRAIN, (s, e) -> {
            float[] in = new float[BLOCK];
            float[] g = new float[BLOCK];
            float[] out = new float[BLOCK];
            Gelu gelu = new Gelu(BLOCK);
            for (int i = s; i < e; i += BLOCK) {
                int l = Math.min(BLOCK, e - i);
                xb.get(xo + i, in, 0, l);
                gb.get(go + i, g, 0, l);
                gelu.backward(in, g, out, l);
                db.put(dO + i, out, 0, l);
            }
        });
    }

    // ---- layernorm ------------------------------------------------------------------------

    @Override
    public void layerNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd,
                                 int rows, int cols, float eps) {
        OpContracts.layerNormForward(x, gamma, beta, y, mean, rstd, rows, cols);
        if (layerNorm != null) {
            if (rows > 0) {
                layerNorm.forward(x, gamma, beta, y, rows, cols, eps);
            }
            return;
        }
        float[] g = opVector(gamma, cols, Scratch.OP_A);
        float[] bta = opVector(beta, cols, Scratch.OP_B);
        Parallel.forRange(rows, rowsPerTask(cols),
                (s, e) -> kernels.layerNormRows(x, y, mean, rstd, g, bta, eps, cols, s, e));
    }

    @Override
    public void layerNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx,
                                  Tensor dGamma, Tensor dBeta, int rows, int cols) {
        OpContracts.layerNormBackward(dy, x, gamma, mean, rstd, dx, dGamma, dBeta, rows, cols);
        if (layerNormBackward != null) {
            oneDnnThreads(false);
            layerNormBackward.backward(dy, x, gamma, mean, rstd, dx, dGamma, dBeta, rows, cols);
            return;
        }
        FloatBuffer gb = buf(dy);
        FloatBuffer xb = buf(x);
        FloatBuffer db = buf(dx);
        FloatBuffer mb = buf(mean);
        FloatBuffer rb = buf(rstd);
        int go = base(dy);
        int xo = base(x);
        int dO = base(dx);
        int mo = base(mean);
        int ro = base(rstd);
        float[] g = download(gamma.head(cols));
        // one pass over fixed row chunks: dx per row, and the chunk's partial dGamma, dBeta
        float[][][] partials = columnPartials(rows, cols, 2, (s, e, acc) -> {
            float[] xr = new float[cols];
            float[] gr = new float[cols];
            float[] accG = acc[0];
            float[] accB = acc[1];
            for (int r = s; r < e; r++) {
                xb.get(xo + r * cols, xr, 0, cols);
                gb.get(go + r * cols, gr, 0, cols);
                float mu = mb.get(mo + r);
                float rs = rb.get(ro + r);
                for (int j = 0; j < cols; j++) {
                    float xhat = (xr[j] - mu) * rs;
                    float dxhat = gr[j] * g[j];
                    accG[j] += gr[j] * xhat;
                    accB[j] += gr[j];
                    xr[j] = xhat;
                    gr[j] = dxhat;
                }
                float meanD = RowReductions.sum(gr, 0, cols) / cols;
                float meanDX = RowReductions.dot(gr, 0, xr, 0, cols) / cols;
                // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
                for (int j = 0; j < cols; j++) {
                    gr[j] = rs * (gr[j] - meanD - xr[j] * meanDX);
                }
                db.put(dO + r * cols, gr, 0, cols);
            }
        });
        addPartials(dGamma, partials[0], cols);
        addPartials(dBeta, partials[1], cols);
    }

    // ---- softmax --------------------------------------------------------------------------

    @Override
    public void softmaxForward(Tensor s, int rows, int cols) {
        OpContracts.softmaxForward(s, rows, cols);
        if (rowSoftmax != null) {
            // the class-token tail's few rows per image (inference's, and training's): on this
            // thread alone, as little as waking another would cost. Called once a forward, our own
            // loops would stay uncompiled for hundreds of forwards.
            OpenMpThreads.use(1);
            rowSoftmax.inPlace(s, 0, rows, cols);
            return;
        }
        // blocks of whole rows, a task's worth at a time: the scalar kernels copy a block in and out
        int perTask = rowsPerTask(cols);
        Parallel.forRange(rows, perTask, (st, e) -> {
            for (int r0 = st; r0 < e; r0 += perTask) {
                kernels.softmaxRows(s, cols, r0, Math.min(e, r0 + perTask));
            }
        });
    }

    /** A block of {@code n} whole rows from row {@code r0}, with two scratch arrays of at least n·cols floats. */
    private interface RowBlockBody {
        void run(int r0, int n, float[] a, float[] b);
    }

    /**
     * {@code body} over blocks of whole rows of {@code cols}, a task's worth at a time: one bulk
     * copy in and out per block instead of per row, and loops as long as the block.
     */
    private static void inRowBlocks(int rows, int cols, RowBlockBody body) {
        int perTask = rowsPerTask(cols);
        Parallel.forRange(rows, perTask, (st, e) -> {
            int blockRows = Math.min(perTask, e - st);
            float[] a = Scratch.floats(Scratch.BODY_A, blockRows * cols);
            float[] b = Scratch.floats(Scratch.BODY_B, blockRows * cols);
            for (int r0 = st; r0 < e; r0 += blockRows) {
                body.run(r0, Math.min(blockRows, e - r0), a, b);
            }
        });
    }

    /**
     * One (image, head) at a time: its scores, their softmax while they are in cache, and its
     * context rows. The unfused path writes all scores, reads them back for the softmax and
     * again for p · v, and those are 10 MB per layer at batch 256. The same GEMMs and softmax
     * rows as the unfused path, so the results are identical.
     */
    @Override
    public void attentionForward(Tensor qkv, Tensor probs, Tensor ctx, int batch, int tokens, int heads, int headDim,
                                 float scale) {
        OpContracts.attentionForward(qkv, probs, ctx, batch, tokens, heads, headDim);
        if (attention != null) {
            attention.forward(qkv, ctx, batch, tokens, heads, headDim, scale, inference);
            return;
        }
        int t = tokens;
        int dim = heads * headDim;
        int ld = 3 * dim;
        if (trainingBatches != null && OneDnnMatmuls.handles(t, t, headDim, heads)
                && OneDnnMatmuls.handles(t, headDim, t, heads)) {
            oneDnnAttentionForward(qkv, probs, ctx, batch, t, heads, headDim, scale);
            return;
        }
        long macsPerPair = 2L * t * t * headDim;
        int pairsPerTask = GemmScheduler.itemsPerTask(macsPerPair);
        Parallel.forRange(batch * heads, pairsPerTask, (s, e) -> {
            for (int bh = s; bh < e; bh++) {
                int b = bh / heads;
                int h = bh % heads;
                long q = (long) b * t * ld + (long) h * headDim;
                long p = (long) bh * t * t;
                sgemm(false, true, t, t, headDim, scale, qkv, q, ld, qkv, q + dim, ld, 0f, probs, p, t);
                kernels.softmaxRows(probs, t, bh * t, (bh + 1) * t);
                sgemm(false, false, t, headDim, t, 1f, probs, p, t, qkv, q + 2L * dim, ld, 0f, ctx,
                        (long) b * t * dim + (long) h * headDim, dim);
            }
        });
    }

    /**
     * {@link #attentionForward} in training on oneDNN: an image at a time, its heads batched into
     * one product each way (q·kᵀ and p·v; bf16 in mixed precision, else fp32), the fp32 scores in
     * cache from the product that writes them through oneDNN's softmax; probs keeps them for the
     * backward pass.
     */
    private void oneDnnAttentionForward(Tensor qkv, Tensor probs, Tensor ctx, int batch, int t, int heads,
                                       int headDim, float scale) {
        int dim = heads * headDim;
        int ld = 3 * dim;
        long tt = (long) t * t;
        Parallel.forRange(batch, 1, (s, e) -> {
            oneDnnThreads(e - s < batch);
            for (int b = s; b < e; b++) {
                long q = (long) b * t * ld;
                long p = b * heads * tt;
                trainingBatches.run(false, true, t, t, headDim, scale, qkv, q, ld, headDim, qkv, q + dim, ld,
                        headDim, false, probs, p, t, tt, heads);
                rowSoftmax.inPlace(probs, p, heads * t, t);
                trainingBatches.run(false, false, t, headDim, t, 1f, probs, p, t, tt, qkv, q + 2L * dim, ld,
                        headDim, false, ctx, (long) b * t * dim, dim, headDim, heads);
            }
        });
    }

    /**
     * The OpenMP threads the training backends' oneDNN ops on this thread may use: one where the
     * op is split between our threads or runs in a lane of a batch (the other lanes keep the
     * cores busy; with more, each lane's product started a team of its own on the same cores),
     * else as many as our own ops use.
     */
    private static void oneDnnThreads(boolean split) {
        OpenMpThreads.use(split ? 1 : Math.min(OpenMpThreads.DEFAULT, Parallel.threads()));
    }

    /**
     * Blocks of whole rows, as in the scalar forward: attention's rows are 50 long, and three buffer
     * copies per row cost more than the row's arithmetic.
     */
    @Override
    public void softmaxBackward(Tensor p, Tensor dp, int rows, int cols) {
        OpContracts.softmaxBackward(p, dp, rows, cols);
        if (rowSoftmax != null) {
            Parallel.forRange(rows, rowsPerTask(cols), (s, e) -> {
                oneDnnThreads(e - s < rows);
                rowSoftmax.backward(p, dp, (long) s * cols, e - s, cols);
            });
            return;
        }
        FloatBuffer pb = buf(p);
        FloatBuffer gb = buf(dp);
        int po = base(p);
        int go = base(dp);
        inRowBlocks(rows, cols, (r0, rowsInBlock, pr, gr) -> {
            int n = rowsInBlock * cols;
            pb.get(po + r0 * cols, pr, 0, n);
            gb.get(go + r0 * cols, gr, 0, n);
            for (int o = 0; o < n; o += cols) {
                float dot = RowReductions.dot(pr, o, gr, o, cols);
                for (int j = o; j < o + cols; j++) {
                    gr[j] = pr[j] * (gr[j] - dot);
                }
            }
            gb.put(go + r0 * cols, gr, 0, n);
        });
    }

    // ---- ViT layout ops -------------------------------------------------------------------

    @Override
    public void unfoldPatches(Tensor images, Tensor patches, int batch, int channels, int height, int width, int p) {
        OpContracts.unfoldPatches(images, patches, batch, channels, height, width, p);
        int gh = height / p;
        int gw = width / p;
        int rowLen = channels * p * p;
        FloatBuffer ib = buf(images);
        FloatBuffer pb = buf(patches);
        int io = base(images);
        int po = base(patches);
        Parallel.forRange(batch * gh, rowsPerTask(gw * rowLen), (s, e) -> {
            for (int bg = s; bg < e; bg++) {
                int b = bg / gh;
                int py = bg % gh;
                for (int px = 0; px < gw; px++) {
                    int dst = po + ((b * gh + py) * gw + px) * rowLen;
                    for (int c = 0; c < channels; c++) {
                        for (int ky = 0; ky < p; ky++) {
                            int src = io + ((b * channels + c) * height + py * p + ky) * width + px * p;
                            pb.put(dst + (c * p + ky) * p, ib, src, p);
                        }
                    }
                }
            }
        });
    }

    @Override
    public void assembleTokens(Tensor patches, Tensor cls, Tensor pos, Tensor tokens, int batch, int numPatches,
                               int dim) {
        OpContracts.assembleTokens(patches, cls, pos, tokens, batch, numPatches, dim);
        int t = numPatches + 1;
        FloatBuffer xb = buf(patches);
        FloatBuffer tb = buf(tokens);
        int xo = base(patches);
        int to = base(tokens);
        float[] posv = opVector(pos, t * dim, Scratch.OP_A);
        float[] clsv = opVector(cls, dim, Scratch.OP_B);
        Parallel.forRange(batch, rowsPerTask(t * dim), (s, e) -> {
            float[] row = Scratch.floats(Scratch.BODY_A, dim);
            float[] posRow = Scratch.floats(Scratch.BODY_B, dim);
            for (int b = s; b < e; b++) {
                for (int j = 0; j < dim; j++) {
                    row[j] = clsv[j] + posv[j];
                }
                tb.put(to + b * t * dim, row, 0, dim);
                for (int i = 0; i < numPatches; i++) {
                    xb.get(xo + (b * numPatches + i) * dim, row, 0, dim);
                    System.arraycopy(posv, (1 + i) * dim, posRow, 0, dim);
                    addRow(row, posRow, dim);
                    tb.put(to + (b * t + 1 + i) * dim, row, 0, dim);
                }
            }
        });
    }

    @Override
    public void assembleTokensBackward(Tensor dTokens, Tensor dPatches, Tensor dCls, Tensor dPos, int batch,
                                       int numPatches, int dim) {
        OpContracts.assembleTokensBackward(dTokens, dPatches, dCls, dPos, batch, numPatches, dim);
        int t = numPatches + 1;
        // patch gradients are token rows 1..T-1 of every image
        copy2d(dTokens.from(dim), t * dim, dPatches, numPatches * dim, batch, numPatches * dim);
        // position gradients sum over images: a column reduction of [batch, T·dim]
        FloatBuffer gb = buf(dTokens);
        int go = base(dTokens);
        int width = t * dim;
        float[][] partial = columnPartials(batch, width, 1, (s, e, acc) -> {
            float[] row = new float[width];
            float[] sum = acc[0];
            for (int b = s; b < e; b++) {
                gb.get(go + b * width, row, 0, width);
                addRow(sum, row, width);
            }
        })[0];
        addPartials(dPos, partial, width);
        float[][] clsPartial = new float[partial.length][];
        for (int c = 0; c < partial.length; c++) {
            clsPartial[c] = Arrays.copyOf(partial[c], dim);
        }
        addPartials(dCls, clsPartial, dim);
    }

    // ---- losses ---------------------------------------------------------------------------

    @Override
    public LossResult crossEntropy(Tensor logits, int[] labels, Tensor dLogits, int rows, int classes,
                                   float smoothing, float gradScale, boolean accumulate) {
        OpContracts.crossEntropy(logits, labels, dLogits, rows, classes);
        float off = smoothing / classes;
        return rowLoss(logits, dLogits, rows, classes, gradScale, accumulate, (r, target) -> {
            Arrays.fill(target, off);
            target[labels[r]] += 1f - smoothing;
            return labels[r];
        });
    }

    @Override
    public LossResult softTargetCrossEntropy(Tensor logits, Tensor targetLogits, Tensor dLogits, int rows,
                                             int classes, float gradScale, boolean accumulate) {
        OpContracts.softTargetCrossEntropy(logits, targetLogits, dLogits, rows, classes);
        FloatBuffer tb = buf(targetLogits);
        int to = base(targetLogits);
        return rowLoss(logits, dLogits, rows, classes, gradScale, accumulate, (r, target) -> {
            tb.get(to + r * classes, target, 0, classes);
            softmaxExact(target, classes);
            return -1;
        });
    }

    /** Fills the target distribution of row r; returns the hard label, or -1 if there is none. */
    @FunctionalInterface
    private interface TargetRow {
        int fill(int row, float[] target);
    }

    /** Softmax in double-precision accumulation (losses are few rows; accuracy first); returns logsumexp. */
    private static double softmaxExact(float[] row, int cols) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < cols; j++) {
            max = Math.max(max, row[j]);
        }
        double sum = 0;
        for (int j = 0; j < cols; j++) {
            sum += Math.exp(row[j] - max);
        }
        for (int j = 0; j < cols; j++) {
            row[j] = (float) (Math.exp(row[j] - max) / sum);
        }
        return max + Math.log(sum);
    }

    private LossResult rowLoss(Tensor logits, Tensor dLogits, int rows, int classes, float gradScale,
                               boolean accumulate, TargetRow targets) {
        FloatBuffer zb = buf(logits);
        FloatBuffer db = buf(dLogits);
        int zo = base(logits);
        int dO = base(dLogits);
        double[] losses = new double[rows];
        boolean[] hit = new boolean[rows];
        Parallel.forRange(rows, rowsPerTask(classes), (s, e) -> {
            float[] z = new float[classes];
            float[] p = new float[classes];
            float[] t = new float[classes];
            float[] d = new float[classes];
            for (int r = s; r < e; r++) {
                zb.get(zo + r * classes, z, 0, classes);
                int label = targets.fill(r, t);
                System.arraycopy(z, 0, p, 0, classes);
                double lse = softmaxExact(p, classes);
                double loss = 0;
                int argmax = 0;
                for (int j = 0; j < classes; j++) {
                    loss += t[j] * (lse - z[j]);
                    if (z[j] > z[argmax]) {
                        argmax = j;
                    }
                }
                losses[r] = loss;
                hit[r] = argmax == label;
                if (accumulate) {
                    db.get(dO + r * classes, d, 0, classes);
                } else {
                    Arrays.fill(d, 0f);
                }
                for (int j = 0; j < classes; j++) {
                    d[j] += gradScale * (p[j] - t[j]);
                }
                db.put(dO + r * classes, d, 0, classes);
            }
        });
        double sum = 0;
        int correct = 0;
        for (int r = 0; r < rows; r++) {
            sum += losses[r];
            correct += hit[r] ? 1 : 0;
        }
        return new LossResult(sum, correct, rows);
    }

    // ---- optimizer ------------------------------------------------------------------------

    @Override
    public void adamw(Tensor params, Tensor grads, Tensor m, Tensor v, List<Region> regions, float lr, float beta1,
                      float beta2, float eps, float weightDecay, int step) {
        // work items are (region, row, block of columns), numbered across all regions
        int n = regions.size();
        long[] firstItem = new long[n + 1];
        for (int k = 0; k < n; k++) {
            Region r = regions.get(k);
            Checks.adamwRegion(r, params, grads, m, v);
            firstItem[k + 1] = firstItem[k] + (long) r.rows() * ((r.cols() + BLOCK - 1) / BLOCK);
        }
        FloatBuffer pb = buf(params);
        FloatBuffer gb = buf(grads);
        FloatBuffer mb = buf(m);
        FloatBuffer vb = buf(v);
        int po = base(params);
        int go = base(grads);
        int mo = base(m);
        int vo = base(v);
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bc1);
        float invBc2Sqrt = (float) (1 / Math.sqrt(bc2));
        Parallel.forRange(len(firstItem[n]), Math.max(1, TASK_GRAIN / BLOCK), (s, e) -> {
            float[] pa = new float[BLOCK];
            float[] ga = new float[BLOCK];
            float[] ma = new float[BLOCK];
            float[] va = new float[BLOCK];
            int k = 0;
            for (int item = s; item < e; item++) {
                while (firstItem[k + 1] <= item) {
                    k++;
                }
                Region r = regions.get(k);
                int blocksPerRow = (r.cols() + BLOCK - 1) / BLOCK;
                long local = item - firstItem[k];
                int row = (int) (local / blocksPerRow);
                int c0 = (int) (local % blocksPerRow) * BLOCK;
                int l = Math.min(BLOCK, r.cols() - c0);
                int i = (int) (r.offset() + (long) row * r.ld() + c0);
                float decay = 1f - lr * (r.decay() ? weightDecay : 0f);
                pb.get(po + i, pa, 0, l);
                gb.get(go + i, ga, 0, l);
                mb.get(mo + i, ma, 0, l);
                vb.get(vo + i, va, 0, l);
                for (int j = 0; j < l; j++) {
                    float g = ga[j];
                    float mi = beta1 * ma[j] + (1 - beta1) * g;
                    float vi = beta2 * va[j] + (1 - beta2) * g * g;
                    ma[j] = mi;
                    va[j] = vi;
                    float denom = (float) Math.sqrt(vi) * invBc2Sqrt + eps;
                    pa[j] = pa[j] * decay - stepSize * mi / denom;
                }
                pb.put(po + i, pa, 0, l);
                mb.put(mo + i, ma, 0, l);
                vb.put(vo + i, va, 0, l);
            }
        });
    }

    // ---- SVD ------------------------------------------------------------------------------

    // ---- batch lanes ------------------------------------------------------------------------

    /**
     * A batch of at least two lanes' worth is split in lanes of about {@link #LANE_IMAGES} images
     * (at most {@link #MAX_LANES}), run as pool tasks. The split depends on the batch only, never
     * on the number of threads, so results do not either.
     */
    @Override
    public int batchLanes(int batch) {
        if (LANE_IMAGES <= 0 || batch < 2 * LANE_IMAGES) {
            return 1;
        }
        return Math.min(MAX_LANES, (batch + LANE_IMAGES - 1) / LANE_IMAGES);
    }

    @Override
    public void runLanes(int lanes, java.util.function.IntConsumer lane) {
        Parallel.forEachTask(lanes, lane);
    }

    @Override
    public void addAndClear(Tensor dst, List<Tensor> parts, long n) {
        for (Tensor p : parts) {
            OpContracts.add(dst, p, dst, n);
        }
        FloatBuffer db = buf(dst);
        int d0 = base(dst);
        Parallel.forRange(len(n), TASK_GRAIN, (s, e) -> {
            float[] acc = Scratch.floats(Scratch.BODY_A, BLOCK);
            float[] part = Scratch.floats(Scratch.BODY_B, BLOCK);
            for (int i = s; i < e; i += BLOCK) {
                int l = Math.min(BLOCK, e - i);
                db.get(d0 + i, acc, 0, l);
                for (Tensor p : parts) {
                    FloatBuffer pb = buf(p);
                    int p0 = base(p);
                    pb.get(p0 + i, part, 0, l);
                    addRow(acc, part, l);
                    Arrays.fill(part, 0, l, 0f);
                    pb.put(p0 + i, part, 0, l);
                }
                db.put(d0 + i, acc, 0, l);
            }
        });
    }

    @Override
    public void svd(Tensor a, int m, int n, Tensor u, Tensor s, Tensor vt) {
        OpContracts.svd(a, m, n, u, s, vt);
        int k = Math.min(m, n);
        Tensor work = allocate(m, n);
        copy(a.head((long) m * n), work);
        int info = openblas.LAPACKE_sgesdd(LAPACK_ROW_MAJOR, (byte) 'S', m, n, ptr(work, 0), n, ptr(s, 0),
                ptr(u, 0), k, ptr(vt, 0), n);
        if (info != 0) {
            throw new ArithmeticException("LAPACK sgesdd failed for a " + m + "x" + n + " matrix (info " + info + ")");
        }
    }

    /** Frees oneDNN's weights and primitives; an OpenBLAS backend holds nothing to free. */
    @Override
    public void close() {
        if (inference != null) {
            inference.close();
            attention.close();
            layerNorm.close();
        }
        if (mixed != null) {
            mixed.close();
        }
        if (rowSoftmax != null) {
            rowSoftmax.close();
        }
        if (fp32Batches != null) {
            fp32Batches.close();
        }
        if (geluBackward != null) {
            geluBackward.close();
        }
        if (layerNormBackward != null) {
            layerNormBackward.close();
        }
    }
}
