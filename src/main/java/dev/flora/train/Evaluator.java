package dev.flora.train;

import dev.flora.data.BatchLoader;
import dev.flora.data.ImageSource;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LossResult;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.tensor.Tensor;
import dev.flora.models.ModelInput;
import java.util.List;

/** Top-1 accuracy and mean cross-entropy (no smoothing) of a model over a dataset. */
public final class Evaluator {
    private Evaluator() {
    }

    /** @param top1 accuracy in [0, 1] */
    public record Result(double top1, double loss, int count) {
    }

    /** Sees each batch's logits while they are on the backend, for measures beyond top-1 and loss. */
    @FunctionalInterface
    public interface LogitsObserver {
        /**
         * @param logits [n, classes] on the model's backend, valid until the next batch
         * @param first  index in the data of the batch's first image (batches come in order)
         */
        void batch(Tensor logits, int[] labels, int n, int first);
    }

    public static Result evaluate(VisionTransformer model, ModelInput input, ImageSource data, int batchSize) {
        return evaluate(model, input, data, batchSize, (logits, labels, n, first) -> { });
    }

    /** As {@link #evaluate(VisionTransformer, ModelInput, ImageSource, int)}, showing every batch to {@code observer}. */
    public static Result evaluate(VisionTransformer model, ModelInput input, ImageSource data, int batchSize,
                                  LogitsObserver observer) {
        ViTConfig c = model.config();
        checkCompatible(c, input, data);
        Backend backend = model.backend();
        BatchLoader loader = BatchLoader.forEvaluation(data, input.preprocessing(), batchSize);
        float[] images = new float[batchSize * loader.imageFloats()];
        int[] labels = new int[batchSize];
        Tensor device = backend.allocate(batchSize * c.imageSize());
        Tensor dLogits = backend.allocate(batchSize * c.numClasses());
        BatchLoader.Epoch epoch = loader.epoch(0);
        double lossSum = 0;
        long correct = 0;
        int count = 0;
        for (int b = 0; b < loader.batchesPerEpoch(); b++) {
            int n = epoch.fill(b, images, labels);
            Tensor in = device.head((long) n * c.imageSize());
            backend.upload(images, 0, in);
            Tensor logits = model.infer(in, n);
            observer.batch(logits.head((long) n * c.numClasses()), labels, n, count);
            LossResult r = backend.crossEntropy(logits, labels, dLogits, n, c.numClasses(), 0f, 0f, false);
            lossSum += r.lossSum();
            correct += r.correct();
            count += n;
        }
        return new Result(count == 0 ? 0 : correct / (double) count, count == 0 ? 0 : lossSum / count, count);
    }

    /** A result with, per image in order, whether the model's highest logit was at its label. */
    public record Outcomes(Result result, boolean[] correct) {
    }

    /**
     * As {@link #evaluate(VisionTransformer, ModelInput, ImageSource, int)}, keeping each image's
     * outcome: two models scored on the same images are compared image by image
     * ({@code dev.flora.report.Accuracy#paired}).
     */
    public static Outcomes outcomes(VisionTransformer model, ModelInput input, ImageSource data, int batchSize) {
        int classes = model.config().numClasses();
        boolean[] correct = new boolean[data.count()];
        float[] host = new float[batchSize * classes];
        Result r = evaluate(model, input, data, batchSize, (logits, labels, n, first) -> {
            model.backend().download(logits, host, 0);
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int k = 1; k < classes; k++) {
                    if (host[i * classes + k] > host[i * classes + best]) {
                        best = k;
                    }
                }
                correct[first + i] = best == labels[i];
            }
        });
        return new Outcomes(r, correct);
    }

    /**
     * Fails with a message naming both sides when images and model disagree: more classes in the
     * data than the model has, or class names recorded on both sides that differ. Image sizes and
     * channels need not match: the model's preprocessing resizes and converts.
     */
    public static void checkCompatible(ViTConfig c, ModelInput input, ImageSource data) {
        if (data.count() == 0) {
            throw new dev.flora.engine.io.FormatException(data.name() + ": no images");
        }
        if (data.classes() > c.numClasses()) {
            throw new dev.flora.engine.io.FormatException(data.name() + ": " + data.classes() + " classes but the model "
                    + "has " + c.numClasses());
        }
        List<String> model = input.classNames();
        List<String> names = data.classNames();
        if (!model.isEmpty() && !names.isEmpty()) {
            for (int i = 0; i < names.size(); i++) {
                if (!names.get(i).equals(model.get(i))) {
                    throw new dev.flora.engine.io.FormatException(data.name() + ": class " + i + " is '" + names.get(i)
                            + "' but the model calls it '" + model.get(i) + "' (class folders must be the ones the "
                            + "model was trained on)");
                }
            }
        }
    }
}
