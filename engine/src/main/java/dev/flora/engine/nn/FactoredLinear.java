package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;

/**
 * LoRITa's over-parameterized dense layer: y = x · Wᵀ + b with W = F0 · F1 · … · F(N-1) [out, in],
 * the factors ordinary decayed parameters, so the optimizer's weight decay on the factors acts as
 * a rank-promoting penalty on their product (Zhang et al. 2024, arXiv 2405.03089). Factor shapes
 * are [out, k], [k, k] (N = 3 only), [k, in] with k = min(in, out): the product can still reach
 * every rank a dense layer has (no rank constraint, as in the paper) and fc2 does not carry a
 * 4·dim inner dimension it could never use. Forward merges the factors into W by GEMMs and runs
 * the dense linear; backward forms dW = dyᵀ·x and passes it to each factor through the products
 * of the others, so every backend with GEMMs runs it. Stored as {@code path.factors.i.weight}
 * and {@code path.bias}, the bias under the dense layer's name.
 */
public final class FactoredLinear implements LinearLayer {
    private final Backend backend;
    private final String path;
    private final int in;
    private final int out;
    private final int inner;
    private final Param[] factors;
    private final Param bias;
    /** dims[i] × dims[i+1] is the shape of factor i: out, k, …, k, in. */
    private final int[] dims;
    /** prefix[i] = F0 · … · F(i+1) [out, dims[i+2]]; the last one is W. Kept for backward. */
    private final GrowableBuffer[] prefix;
    private final GrowableBuffer y;
    private final GrowableBuffer dx;
    private final GrowableBuffer dw;
    private final GrowableBuffer[] suffix;
    private final GrowableBuffer scratch;
    private Tensor x;
    private int rows;

    public FactoredLinear(Backend backend, ParameterArena.Builder params, String path, int in, int out, int depth) {
        if (depth < 2) {
            throw new IllegalArgumentException(path + ": a factored linear needs at least 2 factors, got " + depth);
        }
        this.backend = backend;
        this.path = path;
        this.in = in;
        this.out = out;
        this.inner = Math.min(in, out);
        this.dims = new int[depth + 1];
        java.util.Arrays.fill(dims, inner);
        dims[0] = out;
        dims[depth] = in;
        this.factors = new Param[depth];
        for (int i = 0; i < depth; i++) {
            factors[i] = params.weight(factorName(path, i), dims[i], dims[i + 1]);
        }
        this.bias = params.noDecay(path + ".bias", out);
        this.prefix = new GrowableBuffer[depth - 1];
        this.suffix = new GrowableBuffer[depth - 1];
        for (int i = 0; i < depth - 1; i++) {
            prefix[i] = new GrowableBuffer(backend);
            suffix[i] = GrowableBuffer.blockGradient(backend, path, "suffix" + i);
        }
        this.y = GrowableBuffer.blockActivation(backend, path, "y");
        this.dx = GrowableBuffer.blockGradient(backend, path, "dx");
        this.dw = GrowableBuffer.blockGradient(backend, path, "dw");
        this.scratch = GrowableBuffer.blockGradient(backend, path, "scratch");
    }

    /** The stored name of factor i of the module at {@code path}. */
    public static String factorName(String path, int i) {
        return path + ".factors." + i + ".weight";
    }

    /**
     * The standard deviation of each factor's entries that gives their product entries of
     * standard deviation {@code productStd} (the dense layer's init scale): a product entry sums
     * k^(N-1) terms, each a product of N independent entries. Equal scales keep the factors
     * balanced, the state weight decay drives them to.
     */
    public static double factorStd(double productStd, int inner, int depth) {
        return Math.pow(productStd / Math.pow(inner, (depth - 1) / 2.0), 1.0 / depth);
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return out;
    }

    /** The inner dimension k = min(in, out). */
    public int inner() {
        return inner;
    }

    public int depth() {
        return factors.length;
    }

    public Param factor(int i) {
        return factors[i];
    }

    public Param bias() {
        return bias;
    }

    /** Per row as the merged dense layer runs; merging the factors costs per call, not per row. */
    @Override
    public long macsPerRow() {
        return (long) in * out;
    }

    /** W = F0 · … · F(N-1) [out, in], computed from the current factors (into a buffer of this layer). */
    public Tensor mergedWeight() {
        Tensor left = factors[0].value();
        for (int i = 1; i < factors.length; i++) {
            Tensor p = prefix[i - 1].get((long) out * dims[i + 1]);
            backend.gemm(false, false, out, dims[i + 1], dims[i], 1f, left, dims[i], factors[i].value(), dims[i + 1],
                    0f, p, dims[i + 1]);
            left = p;
        }
        return left;
    }

    /** y [rows, out] = x · Wᵀ + b (+ residual), W merged from the factors first. */
    @Override
    public Tensor forward(Tensor x, int rows, Tensor residual) {
        this.x = x;
        this.rows = rows;
        Tensor w = mergedWeight();
        Tensor yt = y.get((long) rows * out);
        backend.linearForward(x, w, bias.value(), residual, yt, rows, in, out);
        return yt;
    }

    /** dW = dyᵀ·x; dFi += (F0…F(i-1))ᵀ · dW · (F(i+1)…F(N-1))ᵀ; db += Σ dy; returns dx = dy·W. */
    @Override
    public Tensor backward(Tensor dy) {
        int n = factors.length;
        Tensor w = prefix[n - 2].get((long) out * in);
        Tensor dxt = dx.get((long) rows * in);
        backend.gemm(false, false, rows, in, out, 1f, dy, out, w, in, 0f, dxt, in);
        backend.accumulateBiasGrad(dy, bias.grad(), rows, out);
        Tensor dW = dw.get((long) out * in);
        backend.gemm(true, false, out, in, rows, 1f, dy, out, x, in, 0f, dW, in);
        // suffixes[i - 1] = F(i) · … · F(N-1) [dims[i], in], for i = 1 … N-1, built right to left
        Tensor[] right = new Tensor[n];
        right[n - 1] = factors[n - 1].value();
        for (int i = n - 2; i >= 1; i--) {
            Tensor s = suffix[i - 1].get((long) dims[i] * in);
            backend.gemm(false, false, dims[i], in, dims[i + 1], 1f, factors[i].value(), dims[i + 1], right[i + 1], in,
                    0f, s, in);
            right[i] = s;
        }
        for (int i = 0; i < n; i++) {
            Tensor g = factors[i].grad();
            Tensor leftProduct = i == 0 ? null : (i == 1 ? factors[0].value() : prefix[i - 2].get((long) out * dims[i]));
            if (i == n - 1) {
                // dF(N-1) [dims[n-1], in] += leftᵀ · dW
                backend.gemm(true, false, dims[i], in, out, 1f, leftProduct, dims[i], dW, in, 1f, g, in);
                continue;
            }
            if (i == 0) {
                // dF0 [out, dims[1]] += dW · rightᵀ
                backend.gemm(false, true, out, dims[1], in, 1f, dW, in, right[1], in, 1f, g, dims[1]);
                continue;
            }
            Tensor t = scratch.get((long) out * dims[i + 1]);
            backend.gemm(false, true, out, dims[i + 1], in, 1f, dW, in, right[i + 1], in, 0f, t, dims[i + 1]);
            backend.gemm(true, false, dims[i], dims[i + 1], out, 1f, leftProduct, dims[i], t, dims[i + 1], 1f, g,
                    dims[i + 1]);
        }
        return dxt;
    }
}
