package dev.flora.train;

import dev.flora.data.ImageSource;
import dev.flora.engine.backend.LossResult;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import dev.flora.models.ModelInput;
import java.util.LinkedHashMap;

/** Dense training with label-smoothed cross-entropy; validation is top-1 and loss on the val split. */
final class PretrainTask implements TrainingTask {
    private final VisionTransformer model;
    private final ModelInput input;
    private final ImageSource val;
    private final float smoothing;
    private final int evalBatchSize;
    private final Tensor dLogits;

    PretrainTask(VisionTransformer model, ModelInput input, ImageSource val, double smoothing, int batchSize,
                 int evalBatchSize) {
        this.model = model;
        this.input = input;
        this.val = val;
        this.smoothing = (float) smoothing;
        this.evalBatchSize = evalBatchSize;
        this.dLogits = model.backend().allocate(batchSize * model.config().numClasses());
    }

    @Override
    public VisionTransformer model() {
        return model;
    }

    @Override
    public ModelInput input() {
        return input;
    }

    @Override
    public LossResult step(Tensor images, int[] labels, int n, long step) {
        Tensor logits = model.forward(images, n);
        LossResult r = model.backend().crossEntropy(logits, labels, dLogits, n, model.config().numClasses(), smoothing,
                1f / n, false);
        model.backward(dLogits);
        return r;
    }

    @Override
    public LinkedHashMap<String, Double> validate() {
        Evaluator.Result r = Evaluator.evaluate(model, input, val, evalBatchSize);
        LinkedHashMap<String, Double> m = new LinkedHashMap<>();
        m.put("val_loss", r.loss());
        m.put("val_top1", 100 * r.top1());
        return m;
    }
}
