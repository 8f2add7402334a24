package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LayerNormWeights;
import dev.flora.engine.tensor.Tensor;

/** LayerNorm over the last dimension with affine weight and bias (timm default eps 1e-6). */
public final class LayerNorm {
    public static final float DEFAULT_EPS = 1e-6f;

    private final Backend backend;
    private final int dim;
    private final float eps;
    private final Param weight;
    private final Param bias;
    private final GrowableBuffer y;
    private final GrowableBuffer mean;
    private final GrowableBuffer rstd;
    private final GrowableBuffer dx;
    private Tensor x;
    private int rows;

    public LayerNorm(Backend backend, ParameterArena.Builder params, String path, int dim) {
        this.backend = backend;
        this.dim = dim;
        this.eps = DEFAULT_EPS;
        this.weight = params.noDecay(path + ".weight", dim);
        this.bias = params.noDecay(path + ".bias", dim);
        this.y = GrowableBuffer.blockActivation(backend, path, "y");
        this.mean = GrowableBuffer.blockActivation(backend, path, "mean");
        this.rstd = GrowableBuffer.blockActivation(backend, path, "rstd");
        this.dx = GrowableBuffer.blockGradient(backend, path, "dx");
    }

    /** y [rows, dim] = LN(x [rows, dim]). */
    public Tensor forward(Tensor x, int rows) {
        this.x = x;
        this.rows = rows;
        Tensor yt = y.get((long) rows * dim);
        backend.layerNormForward(x, weight.value(), bias.value(), yt, mean.get(rows), rstd.get(rows), rows, dim, eps);
        return yt;
    }

    /** Its weights, for an op that runs the normalization with what follows it. */
    public LayerNormWeights weights() {
        return new LayerNormWeights(weight.value(), bias.value(), eps);
    }

    /** Accumulates weight and bias gradients; returns dx [rows, dim]. */
    public Tensor backward(Tensor dy) {
        Tensor dxt = dx.get((long) rows * dim);
        backend.layerNormBackward(dy, x, weight.value(), mean.get(rows), rstd.get(rows), dxt, weight.grad(),
                bias.grad(), rows, dim);
        return dxt;
    }
}
