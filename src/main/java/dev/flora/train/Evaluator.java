package dev.flora.train;

import dev.flora.data.BatchLoader;
import dev.flora.data.ImageDataset;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LossResult;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.tensor.Tensor;

/** Top-1 accuracy and mean cross-entropy (no smoothing) of a model over a dataset. */
public final class Evaluator {
    private Evaluator() {
    }

    /** @param top1 accuracy in [0, 1] */
    public record Result(double top1, double loss, int count) {
    }

    public static Result evaluate(VisionTransformer model, ImageDataset data, int batchSize) {
        ViTConfig c = model.config();
        checkCompatible(c, data);
        Backend backend = model.backend();
        BatchLoader loader = BatchLoader.forEvaluation(data, c.inputMean(), c.inputStd(), batchSize);
        float[] images = new float[batchSize * loader.imageFloats()];
        int[] labels = new int[batchSize];
        Tensor input = backend.allocate(batchSize * c.imageSize());
        Tensor dLogits = backend.allocate(batchSize * c.numClasses());
        BatchLoader.Epoch epoch = loader.epoch(0);
        double lossSum = 0;
        long correct = 0;
        int count = 0;
        for (int b = 0; b < loader.batchesPerEpoch(); b++) {
            int n = epoch.fill(b, images, labels);
            Tensor in = input.head((long) n * c.imageSize());
            backend.upload(images, 0, in);
            Tensor logits = model.infer(in, n);
            LossResult r = backend.crossEntropy(logits, labels, dLogits, n, c.numClasses(), 0f, 0f, false);
            lossSum += r.lossSum();
            correct += r.correct();
            count += n;
        }
        return new Result(count == 0 ? 0 : correct / (double) count, count == 0 ? 0 : lossSum / count, count);
    }

    /** Fails with a message naming both sides when images and model disagree. */
    public static void checkCompatible(ViTConfig c, ImageDataset data) {
        if (data.channels() != c.inChans() || data.height() != c.imgSize() || data.width() != c.imgSize()) {
            throw new dev.flora.engine.io.FormatException(data.name() + ": images are " + data.channels() + "x"
                    + data.height() + "x" + data.width() + ", the model expects " + c.inChans() + "x" + c.imgSize()
                    + "x" + c.imgSize());
        }
        if (data.classes() > c.numClasses()) {
            throw new dev.flora.engine.io.FormatException(data.name() + ": labels go up to " + (data.classes() - 1)
                    + " but the model has " + c.numClasses() + " classes");
        }
    }
}
