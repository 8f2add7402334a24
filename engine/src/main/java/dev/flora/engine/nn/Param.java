package dev.flora.engine.nn;

import dev.flora.engine.tensor.Tensor;
import java.util.Arrays;

/**
 * One named parameter: a slot of the model's parameter arena (and of the gradient arena beside
 * it). {@code decay} says whether AdamW's weight decay applies (not to norms, biases, tokens).
 */
public final class Param {
    private final String name;
    private final int[] shape;
    private final long offset;
    private final boolean decay;
    private Tensor value;
    /** The arena whose gradients this parameter's are a slot of. */
    private ParameterArena arena;
    /** The slot, made on first use (the arena's gradient block is allocated then). */
    private volatile Tensor grad;

    Param(String name, int[] shape, long offset, boolean decay) {
        this.name = name;
        this.shape = shape.clone();
        this.offset = offset;
        this.decay = decay;
    }

    /** Binds this parameter to its value and to the arena whose gradient block holds its gradient. */
    void bind(Tensor value, ParameterArena arena) {
        this.value = value;
        this.arena = arena;
        this.grad = null;
    }

    public String name() {
        return name;
    }

    public int[] shape() {
        return shape.clone();
    }

    public long numel() {
        return Tensor.product(shape);
    }

    /** Offset in floats from the start of the arena's gradient block (and of its value block, until a release). */
    public long offset() {
        return offset;
    }

    public boolean decay() {
        return decay;
    }

    public Tensor value() {
        return value;
    }

    public Tensor grad() {
        Tensor g = grad;
        if (g == null) {
            g = arena.grads().view(offset, shape);
            grad = g;
        }
        return g;
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
