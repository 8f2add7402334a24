package dev.flora.engine.backend;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.Compare.toFloat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.flora.engine.reference.FiniteDifference;
import dev.flora.engine.reference.Ref;
import dev.flora.engine.tensor.Tensor;
import java.util.Random;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every op of a {@link Backend} against the double-precision reference: forward values, and
 * gradients against central finite differences of the reference. A backend's test class
 * extends this and supplies the backend, so all backends pass the same suite. Shapes include
 * sizes that are not multiples of any tile or vector width.
 */
public abstract class BackendOpsContract {
    protected static final double FWD = 1e-5;
    protected static final double GRAD = 1e-4;
    private static final double H = 1e-5;

    protected abstract Backend backend();

    protected final Random rng = new Random(42);

    protected double[] random(int n, double scale) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (rng.nextDouble() * 2 - 1) * scale;
        }
        return v;
    }

    /** Rounds to float first so the reference sees exactly the engine's inputs. */
    protected double[] randomF(int n, double scale) {
        return toDouble(toFloat(random(n, scale)));
    }

    protected Tensor put(double[] v) {
        Tensor t = backend().allocate(v.length);
        backend().upload(toFloat(v), 0, t);
        return t;
    }

    protected float[] get(Tensor t) {
        return backend().download(t);
    }

    // ---- GEMM -----------------------------------------------------------------------------

    @ParameterizedTest(name = "gemm transA={0} transB={1} m={2} n={3} k={4}")
    @CsvSource({"false,false,7,5,3", "true,false,17,9,33", "false,true,33,65,17", "true,true,5,129,31",
        "false,true,1,1,1", "false,false,64,64,64"})
    void gemmMatchesReference(boolean ta, boolean tb, int m, int n, int k) {
        int lda = (ta ? m : k) + 3;
        int ldb = (tb ? k : n) + 2;
        int ldc = n + 5;
        double[] a = randomF((ta ? k : m) * lda, 1);
        double[] b = randomF((tb ? n : k) * ldb, 1);
        double[] c = randomF(m * ldc, 1);
        float alpha = 0.75f;
        float beta = -0.5f;
        Tensor ct = put(c);
        backend().gemm(ta, tb, m, n, k, alpha, put(a), lda, put(b), ldb, beta, ct, ldc);
        double[] expect = c.clone();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int l = 0; l < k; l++) {
                    double av = ta ? a[l * lda + i] : a[i * lda + l];
                    double bv = tb ? b[j * ldb + l] : b[l * ldb + j];
                    s += av * bv;
                }
                expect[i * ldc + j] = alpha * s + beta * c[i * ldc + j];
            }
        }
        assertClose("gemm", get(ct), expect, FWD);
    }

    /** Both layouts of the default (over images, over heads) and any fused override. */
    @ParameterizedTest(name = "attention batch={0} heads={1}")
    @CsvSource({"3,2", "1,3", "2,3"})
    void attentionForwardMatchesReference(int batch, int heads) {
        int t = 5;
        int d = 4;
        int dim = heads * d;
        float scale = 0.5f;
        double[] qkv = randomF(batch * t * 3 * dim, 1);
        Tensor probs = put(randomF(batch * heads * t * t, 1));
        Tensor ctx = put(randomF(batch * t * dim, 1));
        backend().attentionForward(put(qkv), probs, ctx, batch, t, heads, d, scale);
        double[] p = new double[batch * heads * t * t];
        double[] c = new double[batch * t * dim];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < t; i++) {
                    double[] row = new double[t];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < t; j++) {
                        double s = 0;
                        for (int l = 0; l < d; l++) {
                            s += qkv[(b * t + i) * 3 * dim + h * d + l] * qkv[(b * t + j) * 3 * dim + dim + h * d + l];
                        }
                        row[j] = scale * s;
                        max = Math.max(max, row[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < t; j++) {
                        row[j] = Math.exp(row[j] - max);
                        sum += row[j];
                    }
                    for (int j = 0; j < t; j++) {
                        p[((b * heads + h) * t + i) * t + j] = row[j] / sum;
                    }
                    for (int l = 0; l < d; l++) {
                        double s = 0;
                        for (int j = 0; j < t; j++) {
                            s += row[j] / sum * qkv[(b * t + j) * 3 * dim + 2 * dim + h * d + l];
                        }
                        c[(b * t + i) * dim + h * d + l] = s;
                    }
                }
            }
        }
        assertClose("attention probabilities", get(probs), p, FWD);
        assertClose("attention context", get(ctx), c, FWD);
    }

    @Test
    void gemmStridedBatchedMatchesLoop() {
        int m = 13;
        int n = 11;
        int k = 7;
        int batch = 5;
        int lda = 3 * k;
        long sa = (long) m * lda + 4;
        long sb = (long) n * k + 1;
        long sc = (long) m * n + 6;
        double[] a = randomF((int) (sa * batch), 1);
        double[] b = randomF((int) (sb * batch), 1);
        double[] c = new double[(int) (sc * batch)];
        Tensor ct = put(c);
        // C_i = A_i (m x k, ld 3k) * B_iᵀ (B_i stored n x k)
        backend().gemmStridedBatched(false, true, m, n, k, 1f, put(a), lda, sa, put(b), k, sb, 0f, ct, n, sc, batch);
        double[] expect = c.clone();
        for (int bi = 0; bi < batch; bi++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int l = 0; l < k; l++) {
                        s += a[(int) (bi * sa) + i * lda + l] * b[(int) (bi * sb) + j * k + l];
                    }
                    expect[(int) (bi * sc) + i * n + j] = s;
                }
            }
        }
        assertClose("strided batched gemm", get(ct), expect, FWD);
    }

    @Test
    void gemmRejectsOperandsTooSmall() {
        Tensor a = backend().allocate(10);
        Tensor b = backend().allocate(100);
        Tensor c = backend().allocate(100);
        assertThrows(IllegalArgumentException.class,
                () -> backend().gemm(false, false, 4, 4, 4, 1f, a, 4, b, 4, 0f, c, 4));
    }

    /**
     * A linear layer's forward with and without the skip connection folded in, dense and
     * factorized. The shapes cover one band, row bands and the column bands of a short wide
     * output (a single image's tokens), where each band writes its own block first.
     */
    @ParameterizedTest(name = "linear forward rows={0} in={1} out={2}")
    @CsvSource({"3, 5, 7", "50, 128, 512", "800, 64, 96", "1, 33, 700"})
    void linearForwardAddsBiasAndResidual(int rows, int in, int out) {
        double[] x = randomF(rows * in, 1);
        double[] w = randomF(out * in, 0.2);
        double[] bias = randomF(out, 1);
        double[] residual = randomF(rows * out, 1);
        double[] expect = Ref.linear(x, w, bias, rows, in, out);
        double[] expectRes = expect.clone();
        for (int i = 0; i < expectRes.length; i++) {
            expectRes[i] += residual[i];
        }
        Tensor xt = put(x);
        Tensor y = put(randomF(rows * out, 5)); // whatever was there must not leak through
        backend().linearForward(xt, put(w), put(bias), null, y, rows, in, out);
        assertClose("linear forward", get(y), expect, FWD);
        backend().linearForward(xt, put(w), put(bias), put(residual), y, rows, in, out);
        assertClose("linear forward plus residual", get(y), expectRes, FWD);

        int maxRank = Math.min(in, out);
        int r = Math.max(1, maxRank / 2);
        double[] vt = randomF(maxRank * in, 0.3);
        double[] u = randomF(out * maxRank, 0.3);
        double[] lowRank = Ref.lowRankLinear(x, vt, u, bias, rows, in, out, maxRank, r);
        for (int i = 0; i < lowRank.length; i++) {
            lowRank[i] += residual[i];
        }
        Tensor yl = put(randomF(rows * out, 6));
        backend().lowRankForward(xt, put(vt), put(u), put(bias), put(residual), null, yl, rows, in, out, r, maxRank);
        assertClose("low-rank forward plus residual", get(yl), lowRank, FWD);
    }

    /** One op called with its tensor operands in order; the sizes that are just enough for each. */
    private record Operands(String op, int[] sizes, java.util.function.Consumer<Tensor[]> call) {
    }

    /**
     * Each op, with each of its tensor operands in turn one element short, throws before it
     * touches memory, and the message names that operand (what OpContracts promises).
     */
    @Test
    void everyOpRejectsEachOperandOneElementShort() {
        Backend be = backend();
        java.util.List<Operands> ops = java.util.List.of(
                new Operands("copy2d", new int[] {11, 11}, t -> be.copy2d(t[0], 4, t[1], 4, 3, 3)),
                new Operands("addBias", new int[] {12, 4}, t -> be.addBias(t[0], t[1], 3, 4)),
                // batch 2, tokens 3, heads 2, d 2: qkv [6, 12], probs [2, 2, 3, 3], ctx [6, 4]
                new Operands("attentionForward", new int[] {72, 36, 24},
                        t -> be.attentionForward(t[0], t[1], t[2], 2, 3, 2, 2, 0.5f)),
                new Operands("accumulateBiasGrad", new int[] {12, 4}, t -> be.accumulateBiasGrad(t[0], t[1], 3, 4)),
                new Operands("add", new int[] {12, 12, 12}, t -> be.add(t[0], t[1], t[2], 12)),
                new Operands("gelu", new int[] {12, 12}, t -> be.geluForward(t[0], t[1], 12)),
                new Operands("gelu backward", new int[] {12, 12, 12}, t -> be.geluBackward(t[0], t[1], t[2], 12)),
                new Operands("layernorm", new int[] {12, 4, 4, 12, 3, 3},
                        t -> be.layerNormForward(t[0], t[1], t[2], t[3], t[4], t[5], 3, 4, 1e-6f)),
                new Operands("layernorm backward", new int[] {12, 12, 4, 3, 3, 12, 4, 4},
                        t -> be.layerNormBackward(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], 3, 4)),
                new Operands("softmax backward", new int[] {12, 12}, t -> be.softmaxBackward(t[0], t[1], 3, 4)),
                new Operands("assembleTokens", new int[] {24, 4, 16, 32},
                        t -> be.assembleTokens(t[0], t[1], t[2], t[3], 2, 3, 4)),
                new Operands("assembleTokensBackward", new int[] {32, 24, 4, 16},
                        t -> be.assembleTokensBackward(t[0], t[1], t[2], t[3], 2, 3, 4)),
                new Operands("softTargetCrossEntropy", new int[] {12, 12, 12},
                        t -> be.softTargetCrossEntropy(t[0], t[1], t[2], 3, 4, 1f, false)),
                // rows 3, in 4, out 5, rank 2 of 4: VT [4, 4], U [5, 4] (only the leading 2 columns read)
                // rows 3, in 4, out 5: x [3, 4], W [5, 4], bias [5], residual [3, 5], y [3, 5]
                new Operands("linearForward", new int[] {12, 20, 5, 15, 15},
                        t -> be.linearForward(t[0], t[1], t[2], t[3], t[4], 3, 4, 5)),
                new Operands("lowRankForward", new int[] {12, 8, 18, 5, 15, 6, 15},
                        t -> be.lowRankForward(t[0], t[1], t[2], t[3], t[4], t[5], t[6], 3, 4, 5, 2, 4)),
                new Operands("lowRankBackward", new int[] {15, 12, 6, 8, 18, 6, 12, 8, 18, 5},
                        t -> be.lowRankBackward(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], 3, 4, 5,
                                2, 4)),
                new Operands("svd", new int[] {12, 12, 3, 9}, t -> be.svd(t[0], 4, 3, t[1], t[2], t[3])));
        for (Operands o : ops) {
            Tensor[] enough = new Tensor[o.sizes().length];
            for (int i = 0; i < enough.length; i++) {
                enough[i] = put(randomF(o.sizes()[i], 1));
            }
            o.call().accept(enough); // just enough is accepted
            for (int i = 0; i < enough.length; i++) {
                Tensor[] t = enough.clone();
                t[i] = be.allocate(o.sizes()[i] - 1);
                int operand = i;
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.call().accept(t),
                        o.op() + " operand " + operand + " one element short");
                org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("needs " + o.sizes()[i]),
                        o.op() + " operand " + operand + ": " + e.getMessage());
            }
        }
    }

    // ---- element-wise ---------------------------------------------------------------------

    /** The larger shape is a column reduction the CPU splits into row chunks summed in parallel. */
    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"37, 19", "700, 130"})
    void biasAddAndBiasGradient(int rows, int cols) {
        double[] y = randomF(rows * cols, 1);
        double[] bias = randomF(cols, 1);
        Tensor yt = put(y);
        backend().addBias(yt, put(bias), rows, cols);
        double[] expect = y.clone();
        double[] colSum = randomF(cols, 1);
        double[] start = colSum.clone();
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                expect[r * cols + j] += bias[j];
                colSum[j] += y[r * cols + j];
            }
        }
        assertClose("addBias", get(yt), expect, FWD);
        Tensor db = put(start);
        backend().accumulateBiasGrad(put(y), db, rows, cols);
        assertClose("bias gradient accumulates", get(db), colSum, FWD);
    }

    @Test
    void addScaleSumOfSquaresCopyFill() {
        int n = 1031;
        double[] a = randomF(n, 2);
        double[] b = randomF(n, 2);
        Tensor out = backend().allocate(n);
        backend().add(put(a), put(b), out, n);
        double[] sum = new double[n];
        double sq = 0;
        for (int i = 0; i < n; i++) {
            sum[i] = a[i] + b[i];
            sq += a[i] * a[i];
        }
        assertClose("add", get(out), sum, FWD);
        assertEquals(sq, backend().sumOfSquares(put(a), n), sq * 1e-6);
        Tensor s = put(a);
        backend().scale(s, -0.25f, n);
        double[] scaled = a.clone();
        for (int i = 0; i < n; i++) {
            scaled[i] *= -0.25;
        }
        assertClose("scale", get(s), scaled, FWD);
        Tensor f = backend().allocate(n);
        backend().fill(f, 3.5f);
        for (float v : get(f)) {
            assertEquals(3.5f, v);
        }
        // strided copy: 7 rows of 5 from stride 9 to stride 6
        double[] src = randomF(7 * 9, 1);
        Tensor dst = backend().allocate(7 * 6);
        backend().copy2d(put(src), 9, dst, 6, 7, 5);
        double[] expect = new double[7 * 6];
        for (int r = 0; r < 7; r++) {
            System.arraycopy(src, r * 9, expect, r * 6, 5);
        }
        assertClose("copy2d", get(dst), expect, 0);
        // source stride 0: one row of 5 repeated into every row
        double[] row = randomF(5, 2);
        backend().copy2d(put(row), 0, dst, 6, 7, 5);
        for (int r = 0; r < 7; r++) {
            System.arraycopy(row, 0, expect, r * 6, 5);
        }
        assertClose("copy2d repeating a row", get(dst), expect, 0);
    }

    @Test
    void addAndClearFoldsThePartsInAndZeroesThem() {
        int n = 70_001; // several blocks and tasks, and a ragged end
        double[] dst = randomF(n + 5, 1);
        double[][] parts = {randomF(n + 5, 2), randomF(n + 5, 3), randomF(n + 5, 4)};
        Tensor d = put(dst);
        java.util.List<Tensor> ps = java.util.Arrays.stream(parts).map(this::put).toList();
        backend().addAndClear(d, ps, n);
        double[] expect = dst.clone();
        for (int i = 0; i < n; i++) {
            for (double[] p : parts) {
                expect[i] += p[i];
            }
        }
        assertClose("sum", get(d), expect, FWD);
        for (int p = 0; p < parts.length; p++) {
            double[] left = parts[p].clone();
            java.util.Arrays.fill(left, 0, n, 0);
            assertClose("part " + p + " after the fold", get(ps.get(p)), left, 0);
        }
    }

    @Test
    void geluForwardAndGradient() {
        int n = 523;
        double[] x = randomF(n, 5);
        double[] g = randomF(n, 1);
        Tensor xt = put(x);
        Tensor y = backend().allocate(n);
        backend().geluForward(xt, y, n);
        assertClose("gelu", get(y), Ref.gelu(x), FWD);
        Tensor dx = backend().allocate(n);
        backend().geluBackward(xt, put(g), dx, n);
        double[] fd = FiniteDifference.gradient(x.clone(), v -> Ref.dot(g, Ref.gelu(v)), H);
        assertClose("gelu gradient", get(dx), fd, GRAD);
        // finite differences bound the gradient to 1e-4 only; the closed form holds it to 1e-5
        assertClose("gelu gradient, closed form", get(dx), Ref.geluGradient(x, g), FWD);
    }

    // ---- layernorm ------------------------------------------------------------------------

    @ParameterizedTest(name = "layernorm rows={0} cols={1}")
    @CsvSource({"9,24", "5,129", "1,7"})
    void layerNormForwardAndGradients(int rows, int cols) {
        double[] x = randomF(rows * cols, 3);
        for (int i = 0; i < x.length; i++) {
            x[i] += 1.5; // a mean far from zero exercises the centring
        }
        double[] gam = randomF(cols, 1);
        double[] bet = randomF(cols, 1);
        double[] g = randomF(rows * cols, 1);
        float eps = 1e-6f;
        Tensor xt = put(x);
        Tensor gt = put(gam);
        Tensor y = backend().allocate(rows * cols);
        Tensor mean = backend().allocate(rows);
        Tensor rstd = backend().allocate(rows);
        backend().layerNormForward(xt, gt, put(bet), y, mean, rstd, rows, cols, eps);
        assertClose("layernorm", get(y), Ref.layerNorm(x, gam, bet, rows, cols, eps), FWD);

        Tensor dx = backend().allocate(rows * cols);
        double[] dg0 = randomF(cols, 1);
        double[] db0 = randomF(cols, 1);
        Tensor dg = put(dg0);
        Tensor db = put(db0);
        backend().layerNormBackward(put(g), xt, gt, mean, rstd, dx, dg, db, rows, cols);
        double[] fdx = FiniteDifference.gradient(x.clone(), v -> Ref.dot(g, Ref.layerNorm(v, gam, bet, rows, cols,
                eps)), H);
        double[] fdg = FiniteDifference.gradient(gam.clone(), v -> Ref.dot(g, Ref.layerNorm(x, v, bet, rows, cols,
                eps)), H);
        double[] fdb = FiniteDifference.gradient(bet.clone(), v -> Ref.dot(g, Ref.layerNorm(x, gam, v, rows, cols,
                eps)), H);
        for (int j = 0; j < cols; j++) {
            fdg[j] += dg0[j];
            fdb[j] += db0[j];
        }
        assertClose("layernorm dx", get(dx), fdx, GRAD);
        assertClose("layernorm dgamma (accumulated)", get(dg), fdg, GRAD);
        assertClose("layernorm dbeta (accumulated)", get(db), fdb, GRAD);
    }

    // ---- softmax --------------------------------------------------------------------------

    @Test
    void softmaxForwardAndGradient() {
        int rows = 11;
        int cols = 50;
        double[] s = randomF(rows * cols, 6);
        double[] g = randomF(rows * cols, 1);
        Tensor p = put(s);
        backend().softmaxForward(p, rows, cols);
        assertClose("softmax", get(p), Ref.softmaxRows(s, rows, cols), FWD);
        Tensor dp = put(g);
        backend().softmaxBackward(p, dp, rows, cols);
        double[] fd = FiniteDifference.gradient(s.clone(), v -> Ref.dot(g, Ref.softmaxRows(v, rows, cols)), H);
        assertClose("softmax gradient", get(dp), fd, GRAD);
    }

    @Test
    void softmaxIsStableForLargeLogits() {
        double[] s = {1000, 1001, 999, -1000};
        Tensor p = put(s);
        backend().softmaxForward(p, 1, 4);
        assertClose("softmax of large logits", get(p), Ref.softmaxRows(s, 1, 4), FWD);
    }

    @Test
    void softmaxRowsFarBelowTheirNeighboursKeepTheirPrecision() {
        // rows 60 and 200 below the first: a shift shared by the block of rows (a tempting way to
        // make the exponentials one long loop) would underflow theirs; each row needs its own
        int cols = 50;
        double[] s = randomF(3 * cols, 2);
        for (int j = 0; j < cols; j++) {
            s[j] += 100;
            s[cols + j] += 40;
            s[2 * cols + j] -= 100;
        }
        Tensor p = put(s);
        backend().softmaxForward(p, 3, cols);
        assertClose("softmax of rows far apart", get(p), Ref.softmaxRows(s, 3, cols), FWD);
    }

    /**
     * GELU, layernorm and softmax on views that start at odd offsets into larger tensors, with
     * lengths that are not multiples of a vector: the results match the reference, and the
     * floats around each view are left as they were.
     */
    @Test
    void rowOpsOnViewsAtOddOffsetsTouchOnlyTheirView() {
        int n = 103;
        double[] x = randomF(n, 4);
        Tensor xs = backend().allocate(n + 10);
        Tensor ys = backend().allocate(n + 10);
        backend().fill(ys, 7f);
        Tensor xv = xs.view(3, n);
        backend().upload(toFloat(x), 0, xv);
        backend().geluForward(xv, ys.view(5, n), n);
        float[] got = get(ys);
        assertClose("gelu on a view", java.util.Arrays.copyOfRange(got, 5, 5 + n), Ref.gelu(x), FWD);
        assertUntouched("gelu", got, 5, n, 7f);

        int rows = 4;
        int cols = 37;
        double[] lx = randomF(rows * cols, 3);
        double[] gam = randomF(cols, 1);
        double[] bet = randomF(cols, 1);
        Tensor lxs = backend().allocate(rows * cols + 9);
        Tensor lys = backend().allocate(rows * cols + 9);
        Tensor stats = backend().allocate(2 * rows + 9);
        backend().fill(lys, 7f);
        backend().fill(stats, 7f);
        Tensor lxv = lxs.view(1, rows * cols);
        backend().upload(toFloat(lx), 0, lxv);
        backend().layerNormForward(lxv, put(gam), put(bet), lys.view(7, rows * cols), stats.view(1, rows),
                stats.view(1 + rows + 3, rows), rows, cols, 1e-6f);
        float[] ly = get(lys);
        assertClose("layernorm on a view", java.util.Arrays.copyOfRange(ly, 7, 7 + rows * cols),
                Ref.layerNorm(lx, gam, bet, rows, cols, 1e-6f), FWD);
        assertUntouched("layernorm", ly, 7, rows * cols, 7f);
        float[] st = get(stats);
        for (int i : new int[] {0, 1 + rows, 2 + rows, 3 + rows, 1 + 2 * rows + 3}) {
            assertEquals(7f, st[i], "layernorm statistics outside their views, float " + i);
        }

        int srows = 3;
        int scols = 21;
        double[] s = randomF(srows * scols, 5);
        Tensor ss = backend().allocate(srows * scols + 6);
        backend().fill(ss, 7f);
        Tensor sv = ss.view(3, srows * scols);
        backend().upload(toFloat(s), 0, sv);
        backend().softmaxForward(sv, srows, scols);
        float[] sp = get(ss);
        assertClose("softmax on a view", java.util.Arrays.copyOfRange(sp, 3, 3 + srows * scols),
                Ref.softmaxRows(s, srows, scols), FWD);
        assertUntouched("softmax", sp, 3, srows * scols, 7f);
    }

    private static void assertUntouched(String op, float[] all, int from, int n, float fill) {
        for (int i = 0; i < all.length; i++) {
            if (i < from || i >= from + n) {
                assertEquals(fill, all[i], op + " wrote outside its view, at float " + i);
            }
        }
    }

    // ---- ViT layout ops -------------------------------------------------------------------

    @Test
    void unfoldPatchesMatchesConvLayout() {
        int batch = 2;
        int chans = 3;
        int size = 8;
        int p = 4;
        double[] img = randomF(batch * chans * size * size, 1);
        int rows = batch * (size / p) * (size / p);
        Tensor out = backend().allocate(rows * chans * p * p);
        backend().unfoldPatches(put(img), out, batch, chans, size, size, p);
        assertClose("unfold", get(out), Ref.unfold(img, batch, chans, size, p), 0);
    }

    @Test
    void assembleTokensAndGradients() {
        int batch = 3;
        int n = 4;
        int dim = 6;
        int t = n + 1;
        double[] patches = randomF(batch * n * dim, 1);
        double[] cls = randomF(dim, 1);
        double[] pos = randomF(t * dim, 1);
        Tensor tokens = backend().allocate(batch * t * dim);
        backend().assembleTokens(put(patches), put(cls), put(pos), tokens, batch, n, dim);
        double[] expect = tokens(patches, cls, pos, batch, n, dim);
        assertClose("tokens", get(tokens), expect, FWD);

        double[] g = randomF(batch * t * dim, 1);
        Tensor dPatches = backend().allocate(batch * n * dim);
        Tensor dCls = backend().allocate(dim);
        Tensor dPos = backend().allocate(t * dim);
        backend().assembleTokensBackward(put(g), dPatches, dCls, dPos, batch, n, dim);
        assertClose("dpatches", get(dPatches), FiniteDifference.gradient(patches.clone(),
                v -> Ref.dot(g, tokens(v, cls, pos, batch, n, dim)), H), GRAD);
        assertClose("dcls", get(dCls), FiniteDifference.gradient(cls.clone(),
                v -> Ref.dot(g, tokens(patches, v, pos, batch, n, dim)), H), GRAD);
        assertClose("dpos", get(dPos), FiniteDifference.gradient(pos.clone(),
                v -> Ref.dot(g, tokens(patches, cls, v, batch, n, dim)), H), GRAD);
    }

    private static double[] tokens(double[] patches, double[] cls, double[] pos, int batch, int n, int dim) {
        int t = n + 1;
        double[] out = new double[batch * t * dim];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < dim; j++) {
                out[b * t * dim + j] = cls[j] + pos[j];
                for (int i = 0; i < n; i++) {
                    out[(b * t + 1 + i) * dim + j] = patches[(b * n + i) * dim + j] + pos[(1 + i) * dim + j];
                }
            }
        }
        return out;
    }

    // ---- losses ---------------------------------------------------------------------------

    @Test
    void crossEntropyWithSmoothing() {
        int rows = 7;
        int classes = 10;
        double[] z = randomF(rows * classes, 4);
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            labels[r] = rng.nextInt(classes);
        }
        float smoothing = 0.1f;
        Tensor dz = backend().allocate(rows * classes);
        LossResult res = backend().crossEntropy(put(z), labels, dz, rows, classes, smoothing, 1f / rows, false);
        assertEquals(Ref.crossEntropy(z, labels, rows, classes, smoothing), res.meanLoss(), 1e-5);
        double[] fd = FiniteDifference.gradient(z.clone(), v -> Ref.crossEntropy(v, labels, rows, classes, smoothing),
                H);
        assertClose("cross-entropy gradient", get(dz), fd, GRAD);
        int correct = 0;
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int j = 1; j < classes; j++) {
                if (z[r * classes + j] > z[r * classes + best]) {
                    best = j;
                }
            }
            correct += best == labels[r] ? 1 : 0;
        }
        assertEquals(correct, res.correct());
    }

    @Test
    void crossEntropyRejectsBadLabel() {
        Tensor z = backend().allocate(20);
        assertThrows(IllegalArgumentException.class,
                () -> backend().crossEntropy(z, new int[] {3, 10}, backend().allocate(20), 2, 10, 0f, 1f, false));
    }

    @Test
    void softTargetCrossEntropyAccumulates() {
        int rows = 5;
        int classes = 9;
        double[] z = randomF(rows * classes, 3);
        double[] teacher = randomF(rows * classes, 3);
        double[] start = randomF(rows * classes, 1);
        Tensor dz = put(start);
        float w = 0.5f;
        LossResult res = backend().softTargetCrossEntropy(put(z), put(teacher), dz, rows, classes, w / rows, true);
        assertEquals(Ref.softTargetCrossEntropy(z, teacher, rows, classes), res.meanLoss(), 1e-5);
        double[] fd = FiniteDifference.gradient(z.clone(),
                v -> w * Ref.softTargetCrossEntropy(v, teacher, rows, classes), H);
        for (int i = 0; i < fd.length; i++) {
            fd[i] += start[i];
        }
        assertClose("soft-target gradient (accumulated)", get(dz), fd, GRAD);
    }

    // ---- optimizer ------------------------------------------------------------------------

    @Test
    void adamwFollowsPyTorch() {
        int n = 301;
        double[] p = randomF(n, 1);
        double[] g = randomF(n, 1);
        double[] m = randomF(n, 0.1);
        double[] v = toDouble(toFloat(random(n, 0.01)));
        for (int i = 0; i < n; i++) {
            v[i] = Math.abs(v[i]);
        }
        Tensor pt = put(p);
        Tensor mt = put(m);
        Tensor vt = put(v);
        float lr = 1e-3f;
        float b1 = 0.9f;
        float b2 = 0.999f;
        float eps = 1e-8f;
        float wd = 0.05f;
        int step = 3;
        // update a strided block (3 rows of 50, 80 apart, from 17), as for U[:, :r]; the rest is untouched
        int off = 17;
        int rows = 3;
        int cols = 50;
        int ld = 80;
        backend().adamw(pt, put(g), mt, vt, java.util.List.of(new Region(off, rows, cols, ld, true)), lr, b1, b2, eps,
                wd, step);
        double[] ep = p.clone();
        double[] em = m.clone();
        double[] ev = v.clone();
        for (int k = 0; k < rows * cols; k++) {
            int i = off + (k / cols) * ld + k % cols;
            ep[i] *= 1 - lr * wd;
            em[i] = b1 * m[i] + (1 - b1) * g[i];
            ev[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            double mhat = em[i] / (1 - Math.pow(b1, step));
            double denom = Math.sqrt(ev[i]) / Math.sqrt(1 - Math.pow(b2, step)) + eps;
            ep[i] -= lr * mhat / denom;
        }
        assertClose("adamw params", get(pt), ep, 1e-6);
        assertClose("adamw m", get(mt), em, 1e-6);
        assertClose("adamw v", get(vt), ev, 1e-6);
    }

    // ---- SVD ------------------------------------------------------------------------------

    @ParameterizedTest(name = "svd {0}x{1}")
    @CsvSource({"24,40", "40,24", "17,17"})
    void svdMatchesCommonsMath(int m, int n) {
        double[] a = randomF(m * n, 1);
        Tensor u = backend().allocate(m * Math.min(m, n));
        Tensor s = backend().allocate(Math.min(m, n));
        Tensor vt = backend().allocate(Math.min(m, n) * n);
        backend().svd(put(a), m, n, u, s, vt);
        double[][] rows = new double[m][n];
        for (int i = 0; i < m; i++) {
            System.arraycopy(a, i * n, rows[i], 0, n);
        }
        double[] expect = new SingularValueDecomposition(new Array2DRowRealMatrix(rows)).getSingularValues();
        assertClose("singular values", get(s), expect, 1e-5);
        // and the factors reconstruct the input
        int k = Math.min(m, n);
        float[] uh = get(u);
        float[] sh = get(s);
        float[] vh = get(vt);
        double[] rec = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int l = 0; l < k; l++) {
                    acc += uh[i * k + l] * sh[l] * vh[l * n + j];
                }
                rec[i * n + j] = acc;
            }
        }
        assertClose("U·S·VT reconstructs A", toFloat(rec), a, 1e-5);
    }
}
