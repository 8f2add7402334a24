package dev.flora.bench.gpu;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.optim.AdamW;
import dev.flora.engine.tensor.Tensor;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Training throughput of a dense ViT on the device: forward, cross-entropy, backward and AdamW
 * per step on a fixed random batch, as tools/gpu/pytorch_gpu.py times PyTorch eager. Prints one
 * JSON line.
 */
@Command(name = "train", mixinStandardHelpOptions = true, description = "ViT training step, img/s")
final class TrainStep implements Callable<Integer> {
    @Mixin
    GpuBench.DeviceOptions options = new GpuBench.DeviceOptions();

    @Option(names = "--model", defaultValue = "deit-s", description = "deit-t, deit-s, deit-b or vit-fmnist")
    String model;

    @Option(names = "--batch", defaultValue = "64")
    int batch;

    @Option(names = "--depth", description = "blocks, if not the model's own (for quick checks)")
    Integer depth;

    @Override
    public Integer call() {
        Backend backend = options.open();
        ViTConfig c = ModelShapes.of(model).config();
        ViTConfig config = depth == null ? c : new ViTConfig(c.imgSize(), c.patchSize(), c.inChans(), c.embedDim(),
                depth, c.numHeads(), c.mlpRatio(), c.numClasses(), c.inputMean(), c.inputStd(), c.distilled());
        VisionTransformer vit = new VisionTransformer(backend, config);
        ViTInitializer.initialize(vit, 1);
        AdamW optimizer = new AdamW(vit.arena(), 0.05f);
        Tensor images = GpuBench.random(backend, new Random(2), batch * config.imageSize(), 1.0);
        Tensor dLogits = backend.allocate(batch * config.numClasses());
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = i % config.numClasses();
        }
        Runnable step = () -> {
            vit.arena().zeroGrads();
            Tensor logits = vit.forward(images, batch);
            backend.crossEntropy(logits, labels, dLogits, batch, config.numClasses(), 0f, 1f / batch, false);
            vit.backward(dLogits);
            optimizer.step(1e-4f, vit.trainableRegions());
        };
        double ms = options.clock(backend).millisPerCall(step);
        System.out.printf(Locale.ROOT, "{\"engine\": \"flora-j\", \"model\": \"%s\", \"precision\": \"%s\", "
                + "\"batch\": %d, \"step_ms\": %.3f, \"img_per_s\": %.1f}%n", model, options.precision, batch, ms,
                batch * 1000.0 / ms);
        return 0;
    }
}
