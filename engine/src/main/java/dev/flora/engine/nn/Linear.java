package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LinearProduct;
import dev.flora.engine.tensor.Tensor;

/** Dense linear layer, y = x · Wᵀ + b, with W [out, in] as PyTorch and timm store it. */
public final class Linear implements LinearLayer {
    private final Backend backend;
    private final String path;
    private final int in;
    private final int out;
    private final Param weight;
    private final Param bias;
    private final GrowableBuffer y;
    private final GrowableBuffer dx;
    private Tensor x;
    private int rows;

    public Linear(Backend backend, ParameterArena.Builder params, String path, int in, int out) {
        this.backend = backend;
        this.path = path;
        this.in = in;
        this.out = out;
        this.weight = params.weight(path + ".weight", out, in);
        this.bias = params.noDecay(path + ".bias", out);
        this.y = GrowableBuffer.blockActivation(backend, path, "y");
        this.dx = GrowableBuffer.blockGradient(backend, path, "dx");
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

    @Override
    public long macsPerRow() {
        return (long) in * out;
    }

    public Param weight() {
        return weight;
    }

    public Param bias() {
        return bias;
    }

    /**
     * The input x [rows, in] of the last forward ({@link #lastRows} rows), which backward reads; null
     * before the first. It is the producing layer's buffer, valid until that layer runs again:
     * activation-aware compression reads it to measure what this layer sees.
     */
    public Tensor lastInput() {
        return x;
    }

    /** Rows of the last forward's input. */
    public int lastRows() {
        return rows;
    }

    /** y [rows, out] = x [rows, in] · Wᵀ + b (+ residual). */
    @Override
    public Tensor forward(Tensor x, int rows, Tensor residual) {
        this.x = x;
        this.rows = rows;
        Tensor yt = y.get((long) rows * out);
        backend.linearForward(x, weight.value(), bias.value(), residual, yt, rows, in, out);
        return yt;
    }

    @Override
    public LinearProduct inferenceProduct() {
        return new LinearProduct.Dense(weight.value(), bias.value(), in, out);
    }

    /** dW += dyᵀ·x, db += Σ dy, returns dx = dy·W. */
    @Override
    public Tensor backward(Tensor dy) {
        Tensor dxt = dx.get((long) rows * in);
        backend.linearBackward(dy, x, weight.value(), weight.grad(), bias.grad(), dxt, rows, in, out);
        return dxt;
    }
}
