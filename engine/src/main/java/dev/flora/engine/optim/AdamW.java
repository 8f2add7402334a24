package dev.flora.engine.optim;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.Param;
import dev.flora.engine.nn.ParameterArena;
import dev.flora.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW over a whole parameter arena, with PyTorch's update rule and timm's grouping: weight
 * decay on weight matrices only, not on norms, biases, the class token or the position
 * embedding. The moments live in two arenas of the same layout; contiguous parameters of the
 * same group are updated by one op.
 */
public final class AdamW {
    private final ParameterArena arena;
    private final Backend backend;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final Tensor m;
    private final Tensor v;
    private final List<Segment> segments;
    private int step;

    /** A run of the arena updated with or without weight decay. */
    private record Segment(long offset, long length, boolean decay) {
    }

    public AdamW(ParameterArena arena, float beta1, float beta2, float eps, float weightDecay) {
        this.arena = arena;
        this.backend = arena.backend();
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        int n = Math.toIntExact(arena.size());
        this.m = backend.allocate(n);
        this.v = backend.allocate(n);
        this.segments = segmentsOf(arena);
    }

    /** PyTorch's defaults (betas 0.9, 0.999, eps 1e-8). */
    public AdamW(ParameterArena arena, float weightDecay) {
        this(arena, 0.9f, 0.999f, 1e-8f, weightDecay);
    }

    private static List<Segment> segmentsOf(ParameterArena arena) {
        List<Param> params = new ArrayList<>(arena.params());
        params.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        List<Segment> out = new ArrayList<>();
        long start = 0;
        Boolean decay = null;
        for (Param p : params) {
            if (decay != null && decay != p.decay()) {
                out.add(new Segment(start, p.offset() - start, decay));
                start = p.offset();
            }
            decay = p.decay();
        }
        if (decay != null) {
            out.add(new Segment(start, arena.size() - start, decay));
        }
        return out;
    }

    /** Applies one update with learning rate {@code lr} using the gradients in the arena. */
    public void step(float lr) {
        step++;
        Tensor params = arena.values();
        Tensor grads = arena.grads();
        for (Segment s : segments) {
            backend.adamw(params, grads, m, v, s.offset, s.length, lr, beta1, beta2, eps,
                    s.decay ? weightDecay : 0f, step);
        }
    }

    public int stepCount() {
        return step;
    }

    /** First-moment arena (for checkpoints). */
    public Tensor firstMoment() {
        return m;
    }

    /** Second-moment arena (for checkpoints). */
    public Tensor secondMoment() {
        return v;
    }

    /** Restores the state written by a checkpoint. */
    public void restore(float[] firstMoment, float[] secondMoment, int stepCount) {
        backend.upload(firstMoment, 0, m);
        backend.upload(secondMoment, 0, v);
        this.step = stepCount;
    }
}
