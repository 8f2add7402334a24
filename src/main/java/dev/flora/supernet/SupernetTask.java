package dev.flora.supernet;

import dev.flora.config.SupernetConfig;
import dev.flora.data.ImageSource;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LossResult;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import dev.flora.space.Candidate;
import dev.flora.models.ModelInput;
import dev.flora.train.Evaluator;
import dev.flora.train.TrainingTask;
import java.util.LinkedHashMap;

/**
 * One supernet training step: draw a subnet (seeded by the global step, so a resumed run draws
 * the same ones), run the frozen dense teacher and the subnet on the batch, and back-propagate
 * the in-place distillation loss. Gradients land in the subnet's rank slices only.
 */
public final class SupernetTask implements TrainingTask {
    private final Supernet supernet;
    private final VisionTransformer teacher;
    private final Sampler sampler;
    private final ImageSource val;
    private final float distillWeight;
    private final float smoothing;
    private final long seed;
    private final int evalBatchSize;
    private final Tensor dLogits;

    /** {@code val} may be null to skip per-epoch validation. */
    public SupernetTask(Supernet supernet, VisionTransformer teacher, ImageSource val, SupernetConfig c) {
        this.supernet = supernet;
        this.teacher = teacher;
        this.sampler = new Sampler(supernet.space(), Sampler.Kind.of(supernet.method()));
        this.val = val;
        this.distillWeight = (float) c.distill().weight();
        this.smoothing = (float) c.loop().labelSmoothing();
        this.seed = c.loop().seed();
        this.evalBatchSize = c.loop().evalBatchSize();
        this.dLogits = supernet.model().backend().allocate(c.loop().batchSize() * supernet.space().config().numClasses());
    }

    @Override
    public VisionTransformer model() {
        return supernet.model();
    }

    @Override
    public ModelInput input() {
        return supernet.input();
    }

    @Override
    public LossResult step(Tensor images, int[] labels, int n, long step) {
        Candidate c = sampler.sampleForStep(seed, step);
        supernet.apply(c);
        VisionTransformer model = supernet.model();
        Backend backend = model.backend();
        int classes = model.config().numClasses();
        Tensor target = teacher.infer(images, n);
        Tensor logits = model.forward(images, n);
        LossResult kd = backend.softTargetCrossEntropy(logits, target, dLogits, n, classes, distillWeight / n, false);
        LossResult ce = backend.crossEntropy(logits, labels, dLogits, n, classes, smoothing, (1 - distillWeight) / n,
                true);
        model.backward(dLogits);
        return new LossResult(distillWeight * kd.lossSum() + (1 - distillWeight) * ce.lossSum(), ce.correct(), n);
    }

    /** Top-1 of the largest and the smallest subnet on the validation split (none without one). */
    @Override
    public LinkedHashMap<String, Double> validate() {
        LinkedHashMap<String, Double> m = new LinkedHashMap<>();
        if (val == null) {
            return m;
        }
        supernet.apply(supernet.largest());
        m.put("val_top1_largest", 100 * Evaluator.evaluate(supernet.model(), supernet.input(), val, evalBatchSize).top1());
        supernet.apply(supernet.smallest());
        m.put("val_top1_smallest", 100 * Evaluator.evaluate(supernet.model(), supernet.input(), val, evalBatchSize).top1());
        supernet.apply(supernet.largest());
        return m;
    }
}
