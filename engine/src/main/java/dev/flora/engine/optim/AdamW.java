package dev.flora.engine.optim;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.Param;
import dev.flora.engine.backend.Region;
import dev.flora.engine.nn.ParameterArena;
import dev.flora.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW over a whole parameter arena, with PyTorch's update rule and timm's grouping: weight
 * decay on weight matrices only, not on norms, biases, the class token or the position
 * embedding. The moments live in two arenas of the same layout. A step updates a list of
 * regions: the whole arena, or only the slices the current subnet used.
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
    private int step;

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
    }

    /** PyTorch's defaults (betas 0.9, 0.999, eps 1e-8). */
    public AdamW(ParameterArena arena, float weightDecay) {
        this(arena, 0.9f, 0.999f, 1e-8f, weightDecay);
    }

    /**
     * One update of the given regions of the arena (see {@link dev.flora.engine.nn.VisionTransformer#trainableRegions})
     * with learning rate {@code lr}, using the gradients in the arena. Weight decay applies to
     * regions flagged for it; parts of the arena in no region are not touched.
     */
    public void step(float lr, List<Region> regions) {
        step++;
        Tensor params = arena.values();
        Tensor grads = arena.grads();
        backend.adamw(params, grads, m, v, regions, lr, beta1, beta2, eps, weightDecay, step);
    }

    /** One update of every parameter. */
    public void step(float lr) {
        List<Region> all = new ArrayList<>();
        for (Param p : arena.params()) {
            all.add(Region.run(p.offset(), p.numel(), p.decay()));
        }
        step(lr, all);
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
