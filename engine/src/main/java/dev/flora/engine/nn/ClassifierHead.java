package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;

/**
 * The classifier on the normalized prefix tokens: {@code head} on the class token, or for a
 * distilled DeiT (timm's {@code VisionTransformerDistilled}) (head(cls) + head_dist(dist)) / 2,
 * what timm returns in eval mode and in training when {@code distilled_training} is off. Input
 * [B, P, C] with P = 1 or 2 prefix rows per image, output logits [B, classes].
 */
final class ClassifierHead {
    private final Backend backend;
    private final int dim;
    private final int classes;
    private final Linear head;
    /** Null unless distilled. */
    private final Linear headDist;
    private final GrowableBuffer rows;
    private final GrowableBuffer distRows;
    private final GrowableBuffer logits;
    private final GrowableBuffer dHalf;
    private final GrowableBuffer dx;
    private int batch;

    ClassifierHead(Backend backend, ParameterArena.Builder params, ViTConfig config) {
        this.backend = backend;
        this.dim = config.embedDim();
        this.classes = config.numClasses();
        this.head = new Linear(backend, params, "head", dim, classes);
        this.headDist = config.distilled() ? new Linear(backend, params, "head_dist", dim, classes) : null;
        this.rows = new GrowableBuffer(backend);
        this.distRows = new GrowableBuffer(backend);
        this.logits = new GrowableBuffer(backend);
        this.dHalf = new GrowableBuffer(backend);
        this.dx = new GrowableBuffer(backend);
    }

    long macsPerImage() {
        return head.macsPerRow() + (headDist == null ? 0 : headDist.macsPerRow());
    }

    /** x [B, P, C] to logits [B, classes]; the result belongs to this layer. */
    Tensor forward(Tensor x, int batch) {
        this.batch = batch;
        if (headDist == null) {
            return head.forward(x, batch);
        }
        // each Linear reads contiguous rows, so the two tokens are split out first ([B, C] each: cheap)
        Tensor cls = rows.get((long) batch * dim);
        Tensor dist = distRows.get((long) batch * dim);
        backend.copy2d(x, 2 * dim, cls, dim, batch, dim);
        backend.copy2d(x.from(dim), 2 * dim, dist, dim, batch, dim);
        long n = (long) batch * classes;
        Tensor y = logits.get(n);
        backend.add(head.forward(cls, batch), headDist.forward(dist, batch), y, n);
        backend.scale(y, 0.5f, n);
        return y;
    }

    /** Accumulates the heads' gradients; returns dx [B, P, C]. */
    Tensor backward(Tensor dLogits) {
        if (headDist == null) {
            return head.backward(dLogits);
        }
        long n = (long) batch * classes;
        Tensor half = dHalf.get(n);
        backend.copy(dLogits.head(n), half);
        backend.scale(half, 0.5f, n);
        Tensor d = dx.get(2L * batch * dim);
        backend.copy2d(head.backward(half), dim, d, 2 * dim, batch, dim);
        backend.copy2d(headDist.backward(half), dim, d.from(dim), 2 * dim, batch, dim);
        return d;
    }
}
