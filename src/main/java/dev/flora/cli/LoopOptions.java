package dev.flora.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** The optimization flags of every training command; unset flags keep the command's defaults (see --print-config). */
public final class LoopOptions {
    @Option(names = "--epochs", description = "Epochs.")
    Integer epochs;

    @Option(names = "--batch-size", description = "Batch size.")
    Integer batchSize;

    @Option(names = "--lr", description = "Peak learning rate.")
    Double lr;

    @Option(names = "--min-lr", description = "Final learning rate of the cosine.")
    Double minLr;

    @Option(names = "--warmup-epochs", description = "Linear warm-up length in epochs.")
    Double warmupEpochs;

    @Option(names = "--weight-decay", description = "AdamW weight decay on weight matrices.")
    Double weightDecay;

    @Option(names = "--clip-grad", description = "Max global gradient norm, 0 to disable.")
    Double clipGrad;

    @Option(names = "--crop-padding", description = "Random-crop padding in pixels, 0 to disable.")
    Integer cropPadding;

    @Option(names = "--hflip", negatable = true, description = "Random horizontal flips.")
    Boolean hflip;

    @Option(names = "--seed", description = "Seed of initialization, shuffling, augmentation and sampling.")
    Long seed;

    @Option(names = "--eval-batch-size", description = "Batch size for validation.")
    Integer evalBatchSize;

    @Option(names = "--train-limit", description = "Use only the first N training images, 0 for all.")
    Integer trainLimit;

    Map<String, Object> values() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epochs", epochs);
        m.put("batch_size", batchSize);
        m.put("lr", lr);
        m.put("min_lr", minLr);
        m.put("warmup_epochs", warmupEpochs);
        m.put("weight_decay", weightDecay);
        m.put("clip_grad", clipGrad);
        m.put("crop_padding", cropPadding);
        m.put("hflip", hflip);
        m.put("seed", seed);
        m.put("eval_batch_size", evalBatchSize);
        m.put("train_limit", trainLimit);
        return m;
    }
}
