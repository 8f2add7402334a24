package dev.flora.engine.cpu;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.LAPACK_ROW_MAJOR;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Checks;
import dev.flora.engine.backend.LossResult;
import dev.flora.engine.tensor.HostStorage;
import dev.flora.engine.tensor.Storage;
import dev.flora.engine.tensor.Tensor;
import java.nio.FloatBuffer;
import org.bytedeco.openblas.global.openblas;

/**
 * The CPU backend: GEMM and SVD from OpenBLAS (through JavaCPP, on off-heap memory with no
 * copies), everything else in Java, parallel over rows or columns across cores.
 * Reductions over rows are split by columns, so every sum has a fixed order and results do
 * not depend on thread timing.
 */
public final class CpuBackend implements Backend {
    /** Rows below this many floats of work are not worth a fork. */
    private static final int GRAIN = 1 << 14;

    @Override
    public String name() {
        return "cpu";
    }

    // ---- memory ---------------------------------------------------------------------------

    @Override
    public Tensor allocate(int... shape) {
        return new Tensor(new HostStorage(Tensor.product(shape)), 0, shape);
    }

    private static FloatBuffer buf(Tensor t) {
        Storage s = t.storage();
        if (!(s instanceof HostStorage host)) {
            throw new IllegalArgumentException("tensor " + t + " does not live in host memory");
        }
        return host.buffer();
    }

    private static int base(Tensor t) {
        return (int) t.offset();
    }

    private static org.bytedeco.javacpp.FloatPointer ptr(Tensor t) {
        return ((HostStorage) t.storage()).pointerAt(t.offset());
    }

    private static org.bytedeco.javacpp.FloatPointer ptr(Tensor t, long extra) {
        return ((HostStorage) t.storage()).pointerAt(t.offset() + extra);
    }

    private static int rowsPerChunk(int cols) {
        return Math.max(1, GRAIN / Math.max(1, cols));
    }

    @Override
    public void upload(float[] src, int srcOffset, Tensor dst) {
        buf(dst).put(base(dst), src, srcOffset, Math.toIntExact(dst.numel()));
    }

    @Override
    public void download(Tensor src, float[] dst, int dstOffset) {
        buf(src).get(base(src), dst, dstOffset, Math.toIntExact(src.numel()));
    }

    @Override
    public void fill(Tensor t, float value) {
        FloatBuffer b = buf(t);
        int o = base(t);
        int n = Math.toIntExact(t.numel());
        Parallel.forRange(n, GRAIN * 4, (s, e) -> {
            for (int i = s; i < e; i++) {
                b.put(o + i, value);
            }
        });
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        Checks.fits(dst, src.numel(), "copy destination");
        FloatBuffer sb = buf(src);
        FloatBuffer db = buf(dst);
        int so = base(src);
        int d0 = base(dst);
        int n = Math.toIntExact(src.numel());
        db.put(d0, sb, so, n);
    }

    @Override
    public void copy2d(Tensor src, int srcStride, Tensor dst, int dstStride, int rows, int cols) {
        Checks.fits(src, Checks.extent(rows, cols, srcStride), "copy2d source");
        Checks.fits(dst, Checks.extent(rows, cols, dstStride), "copy2d destination");
        FloatBuffer sb = buf(src);
        FloatBuffer db = buf(dst);
        int so = base(src);
        int d0 = base(dst);
        Parallel.forRange(rows, rowsPerChunk(cols), (s, e) -> {
            for (int r = s; r < e; r++) {
                db.put(d0 + r * dstStride, sb, so + r * srcStride, cols);
            }
        });
    }

    // ---- BLAS -----------------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, int lda,
                     Tensor b, int ldb, float beta, Tensor c, int ldc) {
        Checks.matrix(a, transA, m, k, lda, "A");
        Checks.matrix(b, transB, k, n, ldb, "B");
        Checks.matrix(c, false, m, n, ldc, "C");
        if (m == 0 || n == 0) {
            return;
        }
        openblas.cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, ptr(a), lda, ptr(b), ldb, beta, ptr(c), ldc);
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                   Tensor a, int lda, long strideA, Tensor b, int ldb, long strideB,
                                   float beta, Tensor c, int ldc, long strideC, int batch) {
        Checks.batchedMatrix(a, transA, m, k, lda, strideA, batch, "A");
        Checks.batchedMatrix(b, transB, k, n, ldb, strideB, batch, "B");
        Checks.batchedMatrix(c, false, m, n, ldc, strideC, batch, "C");
        if (m == 0 || n == 0) {
            return;
        }
        int ta = transA ? CblasTrans : CblasNoTrans;
        int tb = transB ? CblasTrans : CblasNoTrans;
        for (int i = 0; i < batch; i++) {
            openblas.cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, ptr(a, strideA * i), lda,
                    ptr(b, strideB * i), ldb, beta, ptr(c, strideC * i), ldc);
        }
    }

    // ---- element-wise ---------------------------------------------------------------------

    @Override
    public void addBias(Tensor y, Tensor bias, int rows, int cols) {
        Checks.fits(y, (long) rows * cols, "addBias output");
        Checks.fits(bias, cols, "addBias bias");
        FloatBuffer yb = buf(y);
        int yo = base(y);
        float[] bv = new float[cols];
        buf(bias).get(base(bias), bv, 0, cols);
        Parallel.forRange(rows, rowsPerChunk(cols), (s, e) -> {
            float[] row = new float[cols];
            for (int r = s; r < e; r++) {
                int off = yo + r * cols;
                yb.get(off, row, 0, cols);
                for (int j = 0; j < cols; j++) {
                    row[j] += bv[j];
                }
                yb.put(off, row, 0, cols);
            }
        });
    }

    @Override
    public void accumulateBiasGrad(Tensor dy, Tensor dBias, int rows, int cols) {
        Checks.fits(dy, (long) rows * cols, "bias gradient input");
        Checks.fits(dBias, cols, "bias gradient");
        FloatBuffer g = buf(dy);
        int go = base(dy);
        FloatBuffer db = buf(dBias);
        int dbo = base(dBias);
        // split by columns: each column's sum runs over rows in order, whatever the thread count
        Parallel.forRange(cols, Math.max(1, 64), (s, e) -> {
            int w = e - s;
            double[] acc = new double[w];
            for (int r = 0; r < rows; r++) {
                int off = go + r * cols + s;
                for (int j = 0; j < w; j++) {
                    acc[j] += g.get(off + j);
                }
            }
            for (int j = 0; j < w; j++) {
                db.put(dbo + s + j, db.get(dbo + s + j) + (float) acc[j]);
            }
        });
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out, long n) {
        Checks.fits(a, n, "add a");
        Checks.fits(b, n, "add b");
        Checks.fits(out, n, "add out");
        FloatBuffer ab = buf(a);
        FloatBuffer bb = buf(b);
        FloatBuffer ob = buf(out);
        int ao = base(a);
        int bo = base(b);
        int oo = base(out);
        Parallel.forRange(Math.toIntExact(n), GRAIN, (s, e) -> {
            for (int i = s; i < e; i++) {
                ob.put(oo + i, ab.get(ao + i) + bb.get(bo + i));
            }
        });
    }

    @Override
    public void scale(Tensor t, float s, long n) {
        Checks.fits(t, n, "scale");
        FloatBuffer tb = buf(t);
        int to = base(t);
        Parallel.forRange(Math.toIntExact(n), GRAIN, (st, e) -> {
            for (int i = st; i < e; i++) {
                tb.put(to + i, tb.get(to + i) * s);
            }
        });
    }

    @Override
    public double sumOfSquares(Tensor t, long n) {
        Checks.fits(t, n, "sumOfSquares");
        FloatBuffer tb = buf(t);
        int to = base(t);
        int len = Math.toIntExact(n);
        // fixed chunks, summed in order: the same result on any number of cores
        int chunks = 64;
        double[] partial = new double[chunks];
        Parallel.forRange(chunks, 1, (s, e) -> {
            for (int c = s; c < e; c++) {
                int lo = Parallel.chunkStart(len, chunks, c);
                int hi = Parallel.chunkStart(len, chunks, c + 1);
                double acc = 0;
                for (int i = lo; i < hi; i++) {
                    double v = tb.get(to + i);
                    acc += v * v;
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
        Checks.fits(x, n, "gelu input");
        Checks.fits(y, n, "gelu output");
        FloatBuffer xb = buf(x);
        FloatBuffer yb = buf(y);
        int xo = base(x);
        int yo = base(y);
        Parallel.forRange(Math.toIntExact(n), GRAIN, (s, e) -> {
            for (int i = s; i < e; i++) {
                float v = xb.get(xo + i);
                yb.put(yo + i, v * Erf.normalCdf(v));
            }
        });
    }

    @Override
    public void geluBackward(Tensor x, Tensor dy, Tensor dx, long n) {
        Checks.fits(x, n, "gelu input");
        Checks.fits(dy, n, "gelu upstream gradient");
        Checks.fits(dx, n, "gelu input gradient");
        FloatBuffer xb = buf(x);
        FloatBuffer gb = buf(dy);
        FloatBuffer db = buf(dx);
        int xo = base(x);
        int go = base(dy);
        int dO = base(dx);
        Parallel.forRange(Math.toIntExact(n), GRAIN, (s, e) -> {
            for (int i = s; i < e; i++) {
                float v = xb.get(xo + i);
                float d = Erf.normalCdf(v) + v * Erf.normalPdf(v);
                db.put(dO + i, gb.get(go + i) * d);
            }
        });
    }

    // ---- layernorm ------------------------------------------------------------------------

    @Override
    public void layerNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd,
                                 int rows, int cols, float eps) {
        long n = (long) rows * cols;
        Checks.fits(x, n, "layernorm input");
        Checks.fits(y, n, "layernorm output");
        Checks.fits(mean, rows, "layernorm mean");
        Checks.fits(rstd, rows, "layernorm rstd");
        FloatBuffer xb = buf(x);
        FloatBuffer yb = buf(y);
        FloatBuffer mb = buf(mean);
        FloatBuffer rb = buf(rstd);
        int xo = base(x);
        int yo = base(y);
        int mo = base(mean);
        int ro = base(rstd);
        float[] g = download(gamma.head(cols));
        float[] bta = download(beta.head(cols));
        Parallel.forRange(rows, rowsPerChunk(cols), (s, e) -> {
            float[] row = new float[cols];
            for (int r = s; r < e; r++) {
                xb.get(xo + r * cols, row, 0, cols);
                double sum = 0;
                for (int j = 0; j < cols; j++) {
                    sum += row[j];
                }
                float mu = (float) (sum / cols);
                double var = 0;
                for (int j = 0; j < cols; j++) {
                    float d = row[j] - mu;
                    var += d * d;
                }
                float rs = (float) (1.0 / Math.sqrt(var / cols + eps));
                for (int j = 0; j < cols; j++) {
                    row[j] = (row[j] - mu) * rs * g[j] + bta[j];
                }
                yb.put(yo + r * cols, row, 0, cols);
                mb.put(mo + r, mu);
                rb.put(ro + r, rs);
            }
        });
    }

    @Override
    public void layerNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx,
                                  Tensor dGamma, Tensor dBeta, int rows, int cols) {
        long n = (long) rows * cols;
        Checks.fits(dy, n, "layernorm upstream gradient");
        Checks.fits(x, n, "layernorm input");
        Checks.fits(dx, n, "layernorm input gradient");
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
        // pass 1, by rows: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
        Parallel.forRange(rows, rowsPerChunk(cols), (s, e) -> {
            float[] xr = new float[cols];
            float[] gr = new float[cols];
            for (int r = s; r < e; r++) {
                xb.get(xo + r * cols, xr, 0, cols);
                gb.get(go + r * cols, gr, 0, cols);
                float mu = mb.get(mo + r);
                float rs = rb.get(ro + r);
                double sumD = 0;
                double sumDX = 0;
                for (int j = 0; j < cols; j++) {
                    float xhat = (xr[j] - mu) * rs;
                    float dxhat = gr[j] * g[j];
                    xr[j] = xhat;
                    gr[j] = dxhat;
                    sumD += dxhat;
                    sumDX += dxhat * xhat;
                }
                float meanD = (float) (sumD / cols);
                float meanDX = (float) (sumDX / cols);
                for (int j = 0; j < cols; j++) {
                    gr[j] = rs * (gr[j] - meanD - xr[j] * meanDX);
                }
                db.put(dO + r * cols, gr, 0, cols);
            }
        });
        // pass 2, by columns: dGamma += sum_r dy * xhat, dBeta += sum_r dy
        FloatBuffer dgb = buf(dGamma);
        FloatBuffer dbb = buf(dBeta);
        int dgo = base(dGamma);
        int dbo = base(dBeta);
        Parallel.forRange(cols, 16, (s, e) -> {
            int w = e - s;
            double[] accG = new double[w];
            double[] accB = new double[w];
            for (int r = 0; r < rows; r++) {
                float mu = mb.get(mo + r);
                float rs = rb.get(ro + r);
                int off = r * cols + s;
                for (int j = 0; j < w; j++) {
                    float gv = gb.get(go + off + j);
                    accG[j] += gv * ((xb.get(xo + off + j) - mu) * rs);
                    accB[j] += gv;
                }
            }
            for (int j = 0; j < w; j++) {
                dgb.put(dgo + s + j, dgb.get(dgo + s + j) + (float) accG[j]);
                dbb.put(dbo + s + j, dbb.get(dbo + s + j) + (float) accB[j]);
            }
        });
    }

    // ---- softmax --------------------------------------------------------------------------

    @Override
    public void softmaxForward(Tensor s, int rows, int cols) {
        Checks.fits(s, (long) rows * cols, "softmax");
        FloatBuffer sb = buf(s);
        int so = base(s);
        Parallel.forRange(rows, rowsPerChunk(cols), (st, e) -> {
            float[] row = new float[cols];
            for (int r = st; r < e; r++) {
                int off = so + r * cols;
                sb.get(off, row, 0, cols);
                softmaxInPlace(row, cols);
                sb.put(off, row, 0, cols);
            }
        });
    }

    /** Numerically stable softmax of row[0..cols); returns log of the normalizer (logsumexp). */
    private static double softmaxInPlace(float[] row, int cols) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < cols; j++) {
            max = Math.max(max, row[j]);
        }
        double sum = 0;
        for (int j = 0; j < cols; j++) {
            float ev = (float) Math.exp(row[j] - max);
            row[j] = ev;
            sum += ev;
        }
        float inv = (float) (1.0 / sum);
        for (int j = 0; j < cols; j++) {
            row[j] *= inv;
        }
        return max + Math.log(sum);
    }

    @Override
    public void softmaxBackward(Tensor p, Tensor dp, int rows, int cols) {
        long n = (long) rows * cols;
        Checks.fits(p, n, "softmax probabilities");
        Checks.fits(dp, n, "softmax gradient");
        FloatBuffer pb = buf(p);
        FloatBuffer gb = buf(dp);
        int po = base(p);
        int go = base(dp);
        Parallel.forRange(rows, rowsPerChunk(cols), (st, e) -> {
            float[] pr = new float[cols];
            float[] gr = new float[cols];
            for (int r = st; r < e; r++) {
                pb.get(po + r * cols, pr, 0, cols);
                gb.get(go + r * cols, gr, 0, cols);
                double dot = 0;
                for (int j = 0; j < cols; j++) {
                    dot += pr[j] * gr[j];
                }
                float d = (float) dot;
                for (int j = 0; j < cols; j++) {
                    gr[j] = pr[j] * (gr[j] - d);
                }
                gb.put(go + r * cols, gr, 0, cols);
            }
        });
    }

    // ---- ViT layout ops -------------------------------------------------------------------

    @Override
    public void unfoldPatches(Tensor images, Tensor patches, int batch, int channels, int height, int width, int p) {
        if (height % p != 0 || width % p != 0) {
            throw new IllegalArgumentException("image " + height + "x" + width + " is not divisible into "
                    + p + "x" + p + " patches");
        }
        int gh = height / p;
        int gw = width / p;
        int rowLen = channels * p * p;
        Checks.fits(images, (long) batch * channels * height * width, "unfold images");
        Checks.fits(patches, (long) batch * gh * gw * rowLen, "unfold patches");
        FloatBuffer ib = buf(images);
        FloatBuffer pb = buf(patches);
        int io = base(images);
        int po = base(patches);
        Parallel.forRange(batch * gh, 1, (s, e) -> {
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
        int t = numPatches + 1;
        Checks.fits(patches, (long) batch * numPatches * dim, "token patches");
        Checks.fits(tokens, (long) batch * t * dim, "tokens");
        Checks.fits(pos, (long) t * dim, "pos_embed");
        Checks.fits(cls, dim, "cls_token");
        FloatBuffer xb = buf(patches);
        FloatBuffer tb = buf(tokens);
        int xo = base(patches);
        int to = base(tokens);
        float[] posv = download(pos.head((long) t * dim));
        float[] clsv = download(cls.head(dim));
        Parallel.forRange(batch, 1, (s, e) -> {
            float[] row = new float[dim];
            for (int b = s; b < e; b++) {
                for (int j = 0; j < dim; j++) {
                    row[j] = clsv[j] + posv[j];
                }
                tb.put(to + b * t * dim, row, 0, dim);
                for (int i = 0; i < numPatches; i++) {
                    xb.get(xo + (b * numPatches + i) * dim, row, 0, dim);
                    int pOff = (1 + i) * dim;
                    for (int j = 0; j < dim; j++) {
                        row[j] += posv[pOff + j];
                    }
                    tb.put(to + (b * t + 1 + i) * dim, row, 0, dim);
                }
            }
        });
    }

    @Override
    public void assembleTokensBackward(Tensor dTokens, Tensor dPatches, Tensor dCls, Tensor dPos, int batch,
                                       int numPatches, int dim) {
        int t = numPatches + 1;
        Checks.fits(dTokens, (long) batch * t * dim, "token gradient");
        Checks.fits(dPatches, (long) batch * numPatches * dim, "patch gradient");
        FloatBuffer gb = buf(dTokens);
        int go = base(dTokens);
        // patch gradients: a strided copy of token rows 1..T-1
        for (int b = 0; b < batch; b++) {
            copy(dTokens.view((long) (b * t + 1) * dim, numPatches * dim),
                    dPatches.view((long) b * numPatches * dim, numPatches * dim));
        }
        // position (and class) gradients: sum over the batch, split by token position
        FloatBuffer pb = buf(dPos);
        int po = base(dPos);
        FloatBuffer cb = buf(dCls);
        int co = base(dCls);
        Parallel.forRange(t, 1, (s, e) -> {
            double[] acc = new double[dim];
            for (int tok = s; tok < e; tok++) {
                java.util.Arrays.fill(acc, 0);
                for (int b = 0; b < batch; b++) {
                    int off = go + (b * t + tok) * dim;
                    for (int j = 0; j < dim; j++) {
                        acc[j] += gb.get(off + j);
                    }
                }
                for (int j = 0; j < dim; j++) {
                    pb.put(po + tok * dim + j, pb.get(po + tok * dim + j) + (float) acc[j]);
                    if (tok == 0) {
                        cb.put(co + j, cb.get(co + j) + (float) acc[j]);
                    }
                }
            }
        });
    }

    // ---- losses ---------------------------------------------------------------------------

    @Override
    public LossResult crossEntropy(Tensor logits, int[] labels, Tensor dLogits, int rows, int classes,
                                   float smoothing, float gradScale, boolean accumulate) {
        if (labels.length < rows) {
            throw new IllegalArgumentException("cross-entropy: " + rows + " rows but " + labels.length + " labels");
        }
        for (int r = 0; r < rows; r++) {
            if (labels[r] < 0 || labels[r] >= classes) {
                throw new IllegalArgumentException("label " + labels[r] + " at row " + r + " is outside [0, "
                        + classes + ")");
            }
        }
        return rowLoss(logits, dLogits, rows, classes, gradScale, accumulate, (r, z, target) -> {
            float off = smoothing / classes;
            java.util.Arrays.fill(target, off);
            target[labels[r]] += 1f - smoothing;
            return labels[r];
        });
    }

    @Override
    public LossResult softTargetCrossEntropy(Tensor logits, Tensor targetLogits, Tensor dLogits, int rows,
                                             int classes, float gradScale, boolean accumulate) {
        Checks.fits(targetLogits, (long) rows * classes, "soft targets");
        FloatBuffer tb = buf(targetLogits);
        int to = base(targetLogits);
        return rowLoss(logits, dLogits, rows, classes, gradScale, accumulate, (r, z, target) -> {
            tb.get(to + r * classes, target, 0, classes);
            softmaxInPlace(target, classes);
            return -1;
        });
    }

    /** Fills the target distribution of row r; returns the hard label, or -1 if there is none. */
    @FunctionalInterface
    private interface TargetRow {
        int fill(int row, float[] logits, float[] target);
    }

    private LossResult rowLoss(Tensor logits, Tensor dLogits, int rows, int classes, float gradScale,
                               boolean accumulate, TargetRow targets) {
        long n = (long) rows * classes;
        Checks.fits(logits, n, "loss logits");
        Checks.fits(dLogits, n, "loss gradient");
        FloatBuffer zb = buf(logits);
        FloatBuffer db = buf(dLogits);
        int zo = base(logits);
        int dO = base(dLogits);
        double[] losses = new double[rows];
        boolean[] hit = new boolean[rows];
        Parallel.forRange(rows, rowsPerChunk(classes), (s, e) -> {
            float[] z = new float[classes];
            float[] p = new float[classes];
            float[] t = new float[classes];
            float[] d = new float[classes];
            for (int r = s; r < e; r++) {
                zb.get(zo + r * classes, z, 0, classes);
                int label = targets.fill(r, z, t);
                System.arraycopy(z, 0, p, 0, classes);
                double lse = softmaxInPlace(p, classes);
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
                    java.util.Arrays.fill(d, 0f);
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
    public void adamw(Tensor params, Tensor grads, Tensor m, Tensor v, long offset, long length, float lr,
                      float beta1, float beta2, float eps, float weightDecay, int step) {
        long end = offset + length;
        Checks.fits(params, end, "adamw params");
        Checks.fits(grads, end, "adamw grads");
        Checks.fits(m, end, "adamw first moment");
        Checks.fits(v, end, "adamw second moment");
        FloatBuffer pb = buf(params);
        FloatBuffer gb = buf(grads);
        FloatBuffer mb = buf(m);
        FloatBuffer vb = buf(v);
        int po = base(params) + (int) offset;
        int go = base(grads) + (int) offset;
        int mo = base(m) + (int) offset;
        int vo = base(v) + (int) offset;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bc1);
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float decay = 1f - lr * weightDecay;
        Parallel.forRange(Math.toIntExact(length), GRAIN, (s, e) -> {
            for (int i = s; i < e; i++) {
                float g = gb.get(go + i);
                float mi = beta1 * mb.get(mo + i) + (1 - beta1) * g;
                float vi = beta2 * vb.get(vo + i) + (1 - beta2) * g * g;
                mb.put(mo + i, mi);
                vb.put(vo + i, vi);
                float p = pb.get(po + i) * decay;
                float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
                pb.put(po + i, p - stepSize * mi / denom);
            }
        });
    }

    // ---- SVD ------------------------------------------------------------------------------

    @Override
    public void svd(Tensor a, int m, int n, Tensor u, Tensor s, Tensor vt) {
        int k = Math.min(m, n);
        Checks.fits(a, (long) m * n, "svd input");
        Checks.fits(u, (long) m * k, "svd U");
        Checks.fits(s, k, "svd singular values");
        Checks.fits(vt, (long) k * n, "svd VT");
        Tensor work = allocate(m, n);
        copy(a.head((long) m * n), work);
        int info = openblas.LAPACKE_sgesdd(LAPACK_ROW_MAJOR, (byte) 'S', m, n, ptr(work), n, ptr(s), ptr(u), k,
                ptr(vt), n);
        if (info != 0) {
            throw new ArithmeticException("LAPACK sgesdd failed for a " + m + "x" + n + " matrix (info " + info + ")");
        }
    }
}
