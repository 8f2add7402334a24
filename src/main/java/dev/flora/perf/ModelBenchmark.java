package dev.flora.perf;

import dev.flora.api.VitPredictor;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.optim.AdamW;
import dev.flora.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;

/**
 * Steady-state speed of one model on this machine: training images per second at a training
 * batch (forward, backward, AdamW, on random inputs), single-image latency through
 * {@link VitPredictor} (median of many calls), and throughput at an inference batch. Warm-up
 * runs are not timed.
 *
 * <p>Training needs a long warm-up: on this project's 2-core machine, batch-128 steps ran at
 * about 700 img/s over steps 3–7, 800 over steps 20–30 and 830–880 from about step 55 on, while
 * C2 was still compiling the engine's loops (JDK 17; five-step samples after two untimed steps
 * each, 24 samples in a row). Four warm-up steps, as before, measured the JIT, not the engine.
 */
public final class ModelBenchmark {
    /**
     * The figures {@code flora bench} reports; {@code trainImgPerSecond} is NaN when training
     * was not timed.
     */
    public record Result(double trainImgPerSecond, double inferB1Millis, int inferBatch, double inferImgPerSecond) {
    }

    /** What to time: no training when {@code trainSteps} is 0. */
    public record Plan(int trainBatch, int warmupSteps, int trainSteps, int latencyCalls, int inferBatch,
                       int throughputBatches) {
    }

    private ModelBenchmark() {
    }

    /** Training and inference timed on one model. */
    public static Result run(VisionTransformer model, Plan plan) {
        return run(model, model, plan);
    }

    /**
     * Training timed on {@code trainingModel}, inference on {@code model}: the same weights on two
     * backends where inference and training run differently (bf16 on the CPU).
     */
    public static Result run(VisionTransformer model, VisionTransformer trainingModel, Plan plan) {
        double train = plan.trainSteps() == 0 ? Double.NaN
                : training(trainingModel, plan.trainBatch(), plan.warmupSteps(), plan.trainSteps());
        VitPredictor p = VitPredictor.of(model.replica(), 1, Math.max(1, plan.inferBatch()));
        return new Result(train, latencyMillis(p, plan.latencyCalls()), plan.inferBatch(),
                throughput(p, plan.inferBatch(), plan.throughputBatches()));
    }

    private static float[] randomImages(ViTConfig c, int n, long seed) {
        float[] x = new float[n * c.imageSize()];
        Random r = new Random(seed);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    static double training(VisionTransformer original, int batch, int warmup, int steps) {
        // a replica (it shares the weights, which are restored afterwards) so the caller's buffers stay as they are
        VisionTransformer model = original.replica();
        Backend backend = model.backend();
        ViTConfig c = model.config();
        Tensor x = backend.allocate(batch * c.imageSize());
        backend.upload(randomImages(c, batch, 1), 0, x);
        int[] labels = new int[batch];
        Arrays.setAll(labels, i -> i % c.numClasses());
        Tensor dLogits = backend.allocate(batch * c.numClasses());
        float[] saved = backend.download(model.arena().values());
        AdamW opt = new AdamW(model.arena(), 0.05f);
        long t0 = 0;
        for (int s = 0; s < warmup + steps; s++) {
            if (s == warmup) {
                backend.synchronize();
                t0 = System.nanoTime();
            }
            model.arena().zeroGrads();
            Tensor logits = model.forward(x, batch);
            backend.crossEntropy(logits, labels, dLogits, batch, c.numClasses(), 0.1f, 1f / batch, false);
            model.backward(dLogits);
            opt.step(1e-4f, model.trainableRegions());
        }
        backend.synchronize();
        double secs = (System.nanoTime() - t0) / 1e9;
        backend.upload(saved, 0, model.arena().values());
        return steps * batch / secs;
    }

    static double latencyMillis(VitPredictor p, int calls) {
        float[] one = randomImages(p.config(), 1, 2);
        for (int i = 0; i < Math.max(10, calls / 5); i++) {
            p.predict(one);
        }
        long[] t = new long[calls];
        for (int i = 0; i < calls; i++) {
            long t0 = System.nanoTime();
            p.predict(one);
            t[i] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        return t[calls / 2] / 1e6;
    }

    static double throughput(VitPredictor p, int batch, int batches) {
        float[] x = randomImages(p.config(), batch, 3);
        for (int i = 0; i < 2; i++) {
            p.predict(x, batch);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < batches; i++) {
            p.predict(x, batch);
        }
        return (double) batch * batches / ((System.nanoTime() - t0) / 1e9);
    }
}
