package dev.flora.bench;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.NoopTranslator;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * The DJL peer: a TorchScript ViT (written by {@code tools/peers/pytorch_infer.py --torchscript})
 * on DJL's PyTorch engine with the official libtorch CPU build. Prints one JSON line with the keys
 * of {@code flora bench --json}: single-image latency (median of CALLS), throughput at batch BATCH
 * and, when TRAIN_STEPS &gt; 0, training images/s at that batch (forward, cross-entropy without
 * label smoothing, backward, AdamW lr 1e-3 weight decay 0.05; five untimed steps first).
 * Thread count: the system properties {@code ai.djl.pytorch.num_threads} and
 * {@code ai.djl.pytorch.num_interop_threads}, set by the caller.
 * Usage: DjlPeer MODEL.pt CHANNELS SIZE BATCH CALLS TRAIN_STEPS
 */
public final class DjlPeer {
    private static final int WARMUP = 5;

    private DjlPeer() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]).toAbsolutePath();
        int chans = Integer.parseInt(args[1]);
        int size = Integer.parseInt(args[2]);
        int batch = Integer.parseInt(args[3]);
        int calls = Integer.parseInt(args[4]);
        int trainSteps = Integer.parseInt(args[5]);
        String version = Engine.getEngine("PyTorch").getVersion();
        double b1;
        double bN;
        try (Model model = Model.newInstance("vit", Device.cpu(), "PyTorch")) {
            model.load(file.getParent(), file.getFileName().toString());
            try (Predictor<NDList, NDList> predictor = model.newPredictor(new NoopTranslator());
                 NDManager m = NDManager.newBaseManager(Device.cpu())) {
                NDArray one = m.randomNormal(new Shape(1, chans, size, size));
                NDArray big = m.randomNormal(new Shape(batch, chans, size, size));
                b1 = latency(predictor, one, calls);
                bN = throughput(predictor, big, batch);
            }
        }
        StringBuilder json = new StringBuilder(String.format(Locale.ROOT,
                "{\"peer\": \"djl %s, libtorch %s\", \"threads\": \"%s\", \"infer_b1_ms\": %.4f, \"infer_b%d_img_per_s\": %.2f",
                Engine.getDjlVersion(), version, System.getProperty("ai.djl.pytorch.num_threads", "default"),
                b1, batch, bN));
        if (trainSteps > 0) {
            json.append(String.format(Locale.ROOT, ", \"train_batch\": %d, \"train_img_per_s\": %.3f", batch,
                    train(file, chans, size, batch, trainSteps)));
        }
        System.out.println(json.append('}'));
    }

    private static double latency(Predictor<NDList, NDList> p, NDArray one, int calls) throws Exception {
        for (int i = 0; i < 30; i++) {
            p.predict(new NDList(one)).close();
        }
        long[] t = new long[calls];
        for (int i = 0; i < calls; i++) {
            long t0 = System.nanoTime();
            p.predict(new NDList(one)).close();
            t[i] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        return t[calls / 2] / 1e6;
    }

    private static double throughput(Predictor<NDList, NDList> p, NDArray big, int batch) throws Exception {
        int batches = 10;
        p.predict(new NDList(big)).close();
        long t0 = System.nanoTime();
        for (int i = 0; i < batches; i++) {
            p.predict(new NDList(big)).close();
        }
        return (double) batch * batches / ((System.nanoTime() - t0) / 1e9);
    }

    private static double train(Path file, int chans, int size, int batch, int steps) throws Exception {
        try (Model model = Model.newInstance("vit-train", Device.cpu(), "PyTorch")) {
            model.load(file.getParent(), file.getFileName().toString(), Map.of("trainParam", "true"));
            Optimizer adamW = Optimizer.adamW().optLearningRateTracker(Tracker.fixed(1e-3f)).optWeightDecays(0.05f)
                    .build();
            try (Trainer trainer = model.newTrainer(
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(adamW))) {
                NDManager m = trainer.getManager();
                NDArray x = m.randomNormal(new Shape(batch, chans, size, size));
                NDArray y = m.randomInteger(0, 1000, new Shape(batch), ai.djl.ndarray.types.DataType.INT64);
                long t0 = 0;
                for (int step = 0; step < WARMUP + steps; step++) {
                    if (step == WARMUP) {
                        t0 = System.nanoTime();
                    }
                    try (GradientCollector gc = trainer.newGradientCollector()) {
                        NDList out = trainer.forward(new NDList(x));
                        NDArray loss = trainer.getLoss().evaluate(new NDList(y), out);
                        gc.backward(loss);
                    }
                    trainer.step();
                }
                return (double) batch * steps / ((System.nanoTime() - t0) / 1e9);
            }
        }
    }
}
