package dev.flora.engine.cuda;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Checks;
import dev.flora.engine.backend.LossResult;
import dev.flora.engine.backend.OpContracts;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.backend.Region;
import dev.flora.engine.tensor.Storage;
import dev.flora.engine.tensor.Tensor;
import java.util.List;

/**
 * The CUDA backend: every op is a kernel of kernels/*.cu or a cuBLAS/cuSOLVER call on a
 * {@link Device}. All buffer layout, launch geometry and op order live here, above the device,
 * so the emulated device exercises exactly the code the GPU runs. Row-major GEMM requests are
 * answered by the column-major library as Cᵀ = Bᵀ·Aᵀ. Reductions write per-block or per-row
 * partials that the host sums in order, so results are deterministic.
 */
public final class CudaBackend implements Backend {
    private static final int THREADS = 256;
    private static final int ROW_THREADS = 128;
    private static final int LOWRANK_ROWS_F32 = 8;
    private static final int LOWRANK_ROWS_WMMA = 16;
    private static final int WMMA_WARPS = 4;

    private final Device device;
    private final Precision precision;
    /** Scratch on the device for per-row loss results and labels, grown on demand. */
    private Tensor lossScratch;
    private Tensor labelScratch;

    public CudaBackend(Device device, Precision precision) {
        this.device = device;
        this.precision = precision;
    }

    public CudaBackend(Device device) {
        this(device, Precision.FP32);
    }

    public Device device() {
        return device;
    }

    /** Arithmetic of the fused low-rank kernels. */
    public Precision precision() {
        return precision;
    }

    @Override
    public String name() {
        return device.name() + (precision == Precision.FP32 ? "" : "/" + precision.name().toLowerCase());
    }

    // ---- memory ---------------------------------------------------------------------------

    private long addr(Tensor t) {
        Storage s = t.storage();
        if (!(s instanceof DeviceStorage d) || d.device() != device) {
            throw new IllegalArgumentException("tensor " + t + " does not live on " + device.name());
        }
        return d.address() + t.offset() * Float.BYTES;
    }

    private long addr(Tensor t, long elementOffset) {
        return addr(t) + elementOffset * Float.BYTES;
    }

    private static Dim3 grid1d(long n) {
        return Dim3.of((int) Math.max(1, Math.min((n + THREADS - 1) / THREADS, 4096)));
    }

    private static Dim3 rowsGrid(long rows, int rowsPerBlock) {
        return Dim3.of((int) Math.max(1, Math.min((rows + rowsPerBlock - 1) / rowsPerBlock, 65535)));
    }

    @Override
    public Tensor allocate(int... shape) {
        Tensor t = new Tensor(new DeviceStorage(device, Tensor.product(shape)), 0, shape);
        fill(t, 0f);
        return t;
    }

    @Override
    public void upload(float[] src, int srcOffset, Tensor dst) {
        device.copyToDevice(src, srcOffset, addr(dst), Math.toIntExact(dst.numel()));
    }

    @Override
    public void download(Tensor src, float[] dst, int dstOffset) {
        device.copyToHost(addr(src), dst, dstOffset, Math.toIntExact(src.numel()));
    }

    @Override
    public void fill(Tensor t, float value) {
        if (t.numel() > 0) {
            device.launch("fill_f32", grid1d(t.numel()), Dim3.of(THREADS), 0,
                    new KernelArgs().ptr(addr(t)).i64(t.numel()).f32(value));
        }
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        OpContracts.copy(src, dst);
        device.copyDeviceToDevice(addr(dst), addr(src), src.numel() * Float.BYTES);
    }

    @Override
    public void copy2d(Tensor src, int srcStride, Tensor dst, int dstStride, int rows, int cols) {
        OpContracts.copy2d(src, srcStride, dst, dstStride, rows, cols);
        if (rows == 0 || cols == 0) {
            return;
        }
        device.launch("copy2d_f32", new Dim3((cols + THREADS - 1) / THREADS, Math.min(rows, 65535), 1),
                Dim3.of(THREADS), 0, new KernelArgs().ptr(addr(src)).i32(srcStride).ptr(addr(dst)).i32(dstStride)
                        .i32(rows).i32(cols));
    }

    // ---- BLAS -----------------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, int lda, Tensor b,
                     int ldb, float beta, Tensor c, int ldc) {
        OpContracts.gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        // row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ
        device.gemm(transB, transA, n, m, k, alpha, addr(b), ldb, addr(a), lda, beta, addr(c), ldc);
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a,
                                   int lda, long strideA, Tensor b, int ldb, long strideB, float beta, Tensor c,
                                   int ldc, long strideC, int batch) {
        OpContracts.gemmStridedBatched(transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc,
                strideC, batch);
        if (m == 0 || n == 0 || batch == 0) {
            return;
        }
        device.gemmStridedBatched(transB, transA, n, m, k, alpha, addr(b), ldb, strideB, addr(a), lda, strideA, beta,
                addr(c), ldc, strideC, batch);
    }

    // ---- element-wise ---------------------------------------------------------------------

    @Override
    public void addBias(Tensor y, Tensor bias, int rows, int cols) {
        OpContracts.addBias(y, bias, rows, cols);
        device.launch("add_bias_f32", grid1d((long) rows * cols), Dim3.of(THREADS), 0,
                new KernelArgs().ptr(addr(y)).ptr(addr(bias)).i32(rows).i32(cols));
    }

    @Override
    public void accumulateBiasGrad(Tensor dy, Tensor dBias, int rows, int cols) {
        OpContracts.accumulateBiasGrad(dy, dBias, rows, cols);
        device.launch("bias_grad_f32", Dim3.of((cols + THREADS - 1) / THREADS), Dim3.of(THREADS), 0,
                new KernelArgs().ptr(addr(dy)).ptr(addr(dBias)).i32(rows).i32(cols));
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out, long n) {
        OpContracts.add(a, b, out, n);
        device.launch("add_f32", grid1d(n), Dim3.of(THREADS), 0,
                new KernelArgs().ptr(addr(a)).ptr(addr(b)).ptr(addr(out)).i64(n));
    }

    @Override
    public void scale(Tensor t, float s, long n) {
        OpContracts.elementwise(t, n, "scale");
        device.launch("scale_f32", grid1d(n), Dim3.of(THREADS), 0, new KernelArgs().ptr(addr(t)).f32(s).i64(n));
    }

    @Override
    public double sumOfSquares(Tensor t, long n) {
        OpContracts.elementwise(t, n, "sumOfSquares");
        Dim3 grid = grid1d(n);
        Tensor partial = allocate(2 * grid.x()); // doubles
        device.launch("sum_squares_f32", grid, Dim3.of(THREADS), 0,
                new KernelArgs().ptr(addr(t)).i64(n).ptr(addr(partial)));
        double[] p = new double[grid.x()];
        device.copyToHost(addr(partial), p, 0, p.length);
        double sum = 0;
        for (double v : p) {
            sum += v;
        }
        return sum;
    }

    @Override
    public void geluForward(Tensor x, Tensor y, long n) {
        OpContracts.geluForward(x, y, n);
        device.launch("gelu_forward_f32", grid1d(n), Dim3.of(THREADS), 0,
                new KernelArgs().ptr(addr(x)).ptr(addr(y)).i64(n));
    }

    @Override
    public void geluBackward(Tensor x, Tensor dy, Tensor dx, long n) {
        OpContracts.geluBackward(x, dy, dx, n);
        device.launch("gelu_backward_f32", grid1d(n), Dim3.of(THREADS), 0,
                new KernelArgs().ptr(addr(x)).ptr(addr(dy)).ptr(addr(dx)).i64(n));
    }

    // ---- layernorm, softmax ---------------------------------------------------------------

    @Override
    public void layerNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd, int rows,
                                 int cols, float eps) {
        OpContracts.layerNormForward(x, gamma, beta, y, mean, rstd, rows, cols);
        device.launch("layernorm_forward_f32", rowsGrid(rows, 1), Dim3.of(ROW_THREADS), 0,
                new KernelArgs().ptr(addr(x)).ptr(addr(gamma)).ptr(addr(beta)).ptr(addr(y)).ptr(addr(mean))
                        .ptr(addr(rstd)).i32(rows).i32(cols).f32(eps));
    }

    @Override
    public void layerNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx,
                                  Tensor dGamma, Tensor dBeta, int rows, int cols) {
        OpContracts.layerNormBackward(dy, x, gamma, mean, rstd, dx, dGamma, dBeta, rows, cols);
        device.launch("layernorm_backward_dx_f32", rowsGrid(rows, 1), Dim3.of(ROW_THREADS), 0,
                new KernelArgs().ptr(addr(dy)).ptr(addr(x)).ptr(addr(gamma)).ptr(addr(mean)).ptr(addr(rstd))
                        .ptr(addr(dx)).i32(rows).i32(cols));
        device.launch("layernorm_backward_params_f32", Dim3.of((cols + THREADS - 1) / THREADS), Dim3.of(THREADS),
                0, new KernelArgs().ptr(addr(dy)).ptr(addr(x)).ptr(addr(mean)).ptr(addr(rstd)).ptr(addr(dGamma))
                        .ptr(addr(dBeta)).i32(rows).i32(cols));
    }

    @Override
    public void softmaxForward(Tensor s, int rows, int cols) {
        OpContracts.softmaxForward(s, rows, cols);
        device.launch("softmax_forward_f32", rowsGrid(rows, ROW_THREADS / 32), Dim3.of(ROW_THREADS), 0,
                new KernelArgs().ptr(addr(s)).i32(rows).i32(cols));
    }

    @Override
    public void softmaxBackward(Tensor p, Tensor dp, int rows, int cols) {
        OpContracts.softmaxBackward(p, dp, rows, cols);
        device.launch("softmax_backward_f32", rowsGrid(rows, ROW_THREADS / 32), Dim3.of(ROW_THREADS), 0,
                new KernelArgs().ptr(addr(p)).ptr(addr(dp)).i32(rows).i32(cols));
    }

    // ---- ViT layout ops -------------------------------------------------------------------

    @Override
    public void unfoldPatches(Tensor images, Tensor patches, int batch, int channels, int height, int width, int p) {
        OpContracts.unfoldPatches(images, patches, batch, channels, height, width, p);
        long n = (long) batch * channels * height * width;
        device.launch("unfold_patches_f32", grid1d(n), Dim3.of(THREADS), 0, new KernelArgs().ptr(addr(images))
                .ptr(addr(patches)).i32(batch).i32(channels).i32(height).i32(width).i32(p));
    }

    @Override
    public void assembleTokens(Tensor patches, Tensor cls, Tensor pos, Tensor tokens, int batch, int numPatches,
                               int dim) {
        OpContracts.assembleTokens(patches, cls, pos, tokens, batch, numPatches, dim);
        int t = numPatches + 1;
        device.launch("assemble_tokens_f32", grid1d((long) batch * t * dim), Dim3.of(THREADS), 0,
                new KernelArgs().ptr(addr(patches)).ptr(addr(cls)).ptr(addr(pos)).ptr(addr(tokens)).i32(batch)
                        .i32(numPatches).i32(dim));
    }

    @Override
    public void assembleTokensBackward(Tensor dTokens, Tensor dPatches, Tensor dCls, Tensor dPos, int batch,
                                       int numPatches, int dim) {
        OpContracts.assembleTokensBackward(dTokens, dPatches, dCls, dPos, batch, numPatches, dim);
        device.launch("assemble_tokens_backward_f32", grid1d((long) batch * numPatches * dim), Dim3.of(THREADS), 0,
                new KernelArgs().ptr(addr(dTokens)).ptr(addr(dPatches)).ptr(addr(dCls)).ptr(addr(dPos)).i32(batch)
                        .i32(numPatches).i32(dim));
    }

    // ---- losses ---------------------------------------------------------------------------

    /** Device scratch for per-row losses [rows] then per-row hits [rows] (ints), grown on demand. */
    private Tensor lossScratch(int rows) {
        if (lossScratch == null || lossScratch.numel() < 2L * rows) {
            lossScratch = allocate(2 * rows);
        }
        return lossScratch;
    }

    private LossResult collect(Tensor scratch, int rows, boolean hits) {
        float[] loss = new float[rows];
        device.copyToHost(addr(scratch), loss, 0, rows);
        int[] correct = new int[rows];
        if (hits) {
            device.copyToHost(addr(scratch, rows), correct, 0, rows);
        }
        double sum = 0;
        int c = 0;
        for (int r = 0; r < rows; r++) {
            sum += loss[r];
            c += correct[r];
        }
        return new LossResult(sum, c, rows);
    }

    @Override
    public LossResult crossEntropy(Tensor logits, int[] labels, Tensor dLogits, int rows, int classes,
                                   float smoothing, float gradScale, boolean accumulate) {
        OpContracts.crossEntropy(logits, labels, dLogits, rows, classes);
        if (labelScratch == null || labelScratch.numel() < rows) {
            labelScratch = allocate(Math.max(rows, 256));
        }
        device.copyToDevice(labels, 0, addr(labelScratch), rows);
        Tensor scratch = lossScratch(rows);
        device.launch("cross_entropy_f32", rowsGrid(rows, ROW_THREADS / 32), Dim3.of(ROW_THREADS), 0,
                new KernelArgs().ptr(addr(logits)).ptr(addr(labelScratch)).ptr(addr(dLogits)).ptr(addr(scratch))
                        .ptr(addr(scratch, rows)).i32(rows).i32(classes).f32(smoothing).f32(gradScale)
                        .i32(accumulate ? 1 : 0));
        return collect(scratch, rows, true);
    }

    @Override
    public LossResult softTargetCrossEntropy(Tensor logits, Tensor targetLogits, Tensor dLogits, int rows,
                                             int classes, float gradScale, boolean accumulate) {
        OpContracts.softTargetCrossEntropy(logits, targetLogits, dLogits, rows, classes);
        Tensor scratch = lossScratch(rows);
        device.launch("soft_target_ce_f32", rowsGrid(rows, ROW_THREADS / 32), Dim3.of(ROW_THREADS), 0,
                new KernelArgs().ptr(addr(logits)).ptr(addr(targetLogits)).ptr(addr(dLogits)).ptr(addr(scratch))
                        .i32(rows).i32(classes).f32(gradScale).i32(accumulate ? 1 : 0));
        return collect(scratch, rows, false);
    }

    // ---- optimizer ------------------------------------------------------------------------

    @Override
    public void adamw(Tensor params, Tensor grads, Tensor m, Tensor v, List<Region> regions, float lr, float beta1,
                      float beta2, float eps, float weightDecay, int step) {
        int n = regions.size();
        if (n == 0) {
            return;
        }
        long[] offset = new long[n];
        int[] cols = new int[n];
        int[] ld = new int[n];
        long[] start = new long[n + 1];
        float[] decay = new float[n];
        for (int k = 0; k < n; k++) {
            Region r = regions.get(k);
            Checks.adamwRegion(r, params, grads, m, v);
            offset[k] = params.offset() + r.offset();
            cols[k] = r.cols();
            ld[k] = r.ld();
            start[k + 1] = start[k] + r.length();
            decay[k] = r.decay() ? weightDecay : 0f;
        }
        if (params.offset() != grads.offset() || params.offset() != m.offset() || params.offset() != v.offset()) {
            throw new IllegalArgumentException("adamw: parameter, gradient and moment arenas must share one layout");
        }
        // the region table: offsets and starts as longs, then cols, ld (ints), decay (floats)
        Tensor table = allocate(2 * n + 2 * (n + 1) + 3 * n);
        long base = addr(table);
        long offsetAddr = base;
        long startAddr = base + 8L * n;
        long colsAddr = startAddr + 8L * (n + 1);
        long ldAddr = colsAddr + 4L * n;
        long decayAddr = ldAddr + 4L * n;
        device.copyToDevice(offset, 0, offsetAddr, n);
        device.copyToDevice(start, 0, startAddr, n + 1);
        device.copyToDevice(cols, 0, colsAddr, n);
        device.copyToDevice(ld, 0, ldAddr, n);
        device.copyToDevice(decay, 0, decayAddr, n);
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        long storageBase = addr(params) - params.offset() * Float.BYTES;
        long gradBase = addr(grads) - grads.offset() * Float.BYTES;
        long mBase = addr(m) - m.offset() * Float.BYTES;
        long vBase = addr(v) - v.offset() * Float.BYTES;
        device.launch("adamw_f32", grid1d(start[n]), Dim3.of(THREADS), 0, new KernelArgs().ptr(storageBase)
                .ptr(gradBase).ptr(mBase).ptr(vBase).ptr(offsetAddr).ptr(colsAddr).ptr(ldAddr).ptr(startAddr)
                .ptr(decayAddr).i32(n).f32(lr).f32(beta1).f32(beta2).f32(eps).f32((float) (lr / bc1))
                .f32((float) (1 / Math.sqrt(bc2))));
    }

    // ---- fused low-rank linear ------------------------------------------------------------

    private int lowRankShared(int r, boolean wmma) {
        if (!wmma) {
            return LOWRANK_ROWS_F32 * r * Float.BYTES;
        }
        int rPad = (r + 15) / 16 * 16;
        int k = precision == Precision.BF16 ? 16 : 8;
        int elem = precision == Precision.BF16 ? 2 : 4;
        return 16 * rPad * Float.BYTES + WMMA_WARPS * 32 * k * elem + WMMA_WARPS * 256 * Float.BYTES;
    }

    /** The fused kernel adds the bias; a residual, when given, is one add after it. */
    @Override
    public void lowRankForward(Tensor x, Tensor vt, Tensor u, Tensor bias, Tensor residual, Tensor h, Tensor y,
                               int rows, int in, int out, int r, int maxRank) {
        OpContracts.lowRankForward(x, vt, u, bias, residual, h, y, rows, in, out, r, maxRank);
        if (rows == 0) {
            return;
        }
        boolean wmma = precision != Precision.FP32;
        String kernel = switch (precision) {
            case FP32 -> "lowrank_forward_f32";
            case TF32 -> "lowrank_forward_tf32";
            case BF16 -> "lowrank_forward_bf16";
        };
        int tile = wmma ? LOWRANK_ROWS_WMMA : LOWRANK_ROWS_F32;
        device.launch(kernel, Dim3.of((rows + tile - 1) / tile), Dim3.of(wmma ? 32 * WMMA_WARPS : THREADS),
                lowRankShared(r, wmma), new KernelArgs().ptr(addr(x)).ptr(addr(vt)).ptr(addr(u)).ptr(addr(bias))
                        .ptr(h == null ? 0 : addr(h)).ptr(addr(y)).i32(rows).i32(in).i32(out).i32(r).i32(maxRank));
        if (residual != null) {
            add(y, residual, y, (long) rows * out);
        }
    }

    @Override
    public void lowRankBackwardInput(Tensor dy, Tensor vt, Tensor u, Tensor dh, Tensor dx, int rows, int in,
                                     int out, int r, int maxRank) {
        OpContracts.lowRankBackwardInput(dy, vt, u, dh, dx, rows, in, out, r, maxRank);
        if (rows == 0) {
            return;
        }
        // the backward's tensor-core version is tf32; bf16 runs it too (its forward is the bf16 one)
        boolean wmma = precision != Precision.FP32;
        int tile = wmma ? LOWRANK_ROWS_WMMA : LOWRANK_ROWS_F32;
        int shared = wmma ? 16 * ((r + 15) / 16 * 16) * Float.BYTES + WMMA_WARPS * 32 * 8 * Float.BYTES
                + WMMA_WARPS * 256 * Float.BYTES : LOWRANK_ROWS_F32 * r * Float.BYTES;
        device.launch(wmma ? "lowrank_backward_dx_tf32" : "lowrank_backward_dx_f32", Dim3.of((rows + tile - 1) / tile),
                Dim3.of(wmma ? 32 * WMMA_WARPS : THREADS), shared, new KernelArgs().ptr(addr(dy)).ptr(addr(vt))
                        .ptr(addr(u)).ptr(addr(dh)).ptr(addr(dx)).i32(rows).i32(in).i32(out).i32(r).i32(maxRank));
    }

    // ---- SVD ------------------------------------------------------------------------------

    private void transpose(Tensor src, Tensor dst, int rows, int cols) {
        device.launch("transpose_f32", Dim3.of((cols + 31) / 32, (rows + 31) / 32), Dim3.of(32, 8), 0,
                new KernelArgs().ptr(addr(src)).ptr(addr(dst)).i32(rows).i32(cols));
    }

    /**
     * Row-major A [m, n] is column-major Aᵀ [n, m]. When n ≥ m, gesvd of Aᵀ = U'·S·V'ᵀ gives
     * A = V'·S·U'ᵀ with no copies: V'ᵀ (column-major [k, m]) is u row-major [m, k], and U'
     * (column-major [n, k]) is vt row-major [k, n]. Otherwise A is transposed into a column-major
     * copy and its factors transposed back.
     */
    @Override
    public void svd(Tensor a, int m, int n, Tensor u, Tensor s, Tensor vt) {
        OpContracts.svd(a, m, n, u, s, vt);
        int k = Math.min(m, n);
        Tensor work = allocate(m, n);
        if (n >= m) {
            copy(a.head((long) m * n), work);
            device.gesvd(n, m, addr(work), n, addr(s), addr(vt), n, addr(u), m);
        } else {
            transpose(a, work, m, n); // column-major A [m, n]
            Tensor uc = allocate(m, k);
            Tensor vtc = allocate(k, n);
            device.gesvd(m, n, addr(work), m, addr(s), addr(uc), m, addr(vtc), k);
            transpose(uc, u, k, m);  // column-major U [m, k] is row-major [k, m]; transposed: row-major [m, k]
            transpose(vtc, vt, n, k); // column-major VT [k, n] is row-major [n, k]; transposed: row-major [k, n]
        }
    }

    @Override
    public void synchronize() {
        device.synchronize();
    }

    @Override
    public void close() {
        device.close();
    }
}
