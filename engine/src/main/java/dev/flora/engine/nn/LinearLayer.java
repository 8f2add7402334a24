package dev.flora.engine.nn;

import dev.flora.engine.backend.LinearProduct;
import dev.flora.engine.tensor.Tensor;

/**
 * A linear map on rows, y [rows, out] = f(x [rows, in]), dense or factorized. The layer keeps a
 * reference to its input for the backward pass and owns its output and input-gradient buffers,
 * which stay valid until its next forward or backward call.
 */
public interface LinearLayer {
    /** Module path, timm-style, e.g. {@code blocks.3.attn.qkv}. */
    String path();

    int inFeatures();

    int outFeatures();

    /** Multiply-accumulates per row at the current configuration. */
    long macsPerRow();

    default Tensor forward(Tensor x, int rows) {
        return forward(x, rows, null);
    }

    /**
     * y = f(x) + residual, the residual [rows, out] added in the same pass as the bias (a
     * transformer block's skip connection); null adds nothing. The backward pass is that of
     * f alone: the caller routes dy to the skip path itself.
     */
    Tensor forward(Tensor x, int rows, Tensor residual);

    /**
     * The product f multiplies at the current configuration, for an inference backend that runs
     * it together with a neighbour's ({@code Backend.mlpForward}); null for a layer whose product
     * is not one of those (the caller then runs {@link #forward}).
     */
    default LinearProduct inferenceProduct() {
        return null;
    }

    /** Accumulates parameter gradients and returns dx [rows, in] for the rows of the last forward. */
    Tensor backward(Tensor dy);
}
