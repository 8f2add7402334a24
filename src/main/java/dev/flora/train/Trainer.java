package dev.flora.train;

import dev.flora.data.BatchLoader;
import dev.flora.data.Datasets;
import dev.flora.data.ImageDataset;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LossResult;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.optim.AdamW;
import dev.flora.engine.optim.CosineSchedule;
import dev.flora.engine.optim.GradientClipping;
import dev.flora.engine.tensor.Tensor;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Pre-trains a dense ViT from scratch: AdamW (timm grouping), per-step cosine schedule with
 * warm-up, global-norm clipping, label smoothing, seeded shuffling and augmentation. After each
 * epoch it scores the validation split, appends to {@code metrics.csv} and writes
 * {@code checkpoint.safetensors}; at the end it writes {@code model.safetensors}. A resumed run
 * continues from the last checkpoint and ends bit-identical to an uninterrupted one.
 */
public final class Trainer {
    public static final String CONFIG = "config.yaml";
    public static final String CHECKPOINT = "checkpoint.safetensors";
    public static final String MODEL = "model.safetensors";
    public static final String METRICS = "metrics.csv";

    private final TrainConfig config;
    private final Path runDir;
    private final Backend backend;
    private final PrintStream out;

    public Trainer(TrainConfig config, Path runDir, Backend backend, PrintStream out) {
        this.config = config.validated();
        this.runDir = runDir;
        this.backend = backend;
        this.out = out;
    }

    /** The config a run directory was started with. */
    public static TrainConfig savedConfig(Path runDir) {
        Path cp = runDir.resolve(CHECKPOINT);
        if (!Files.exists(cp)) {
            throw new FormatException(runDir + ": no " + CHECKPOINT + " to resume from");
        }
        return Configs.fromYaml(Checkpoint.readState(cp).configYaml(), TrainConfig.class, cp.toString());
    }

    /** What a finished run reports. */
    public record Summary(int epochs, double valTop1, double valLoss, double imgPerSecond, double seconds,
                          Path model) {
    }

    public Summary run(boolean resume) {
        return run(resume, Integer.MAX_VALUE);
    }

    /**
     * Trains until the configured epochs are done, or {@code epochBudget} epochs have run in this
     * call, whichever comes first (a long run can be split across sessions with --resume). The
     * final model is written only when the last epoch is done.
     */
    public Summary run(boolean resume, int epochBudget) {
        ViTConfig arch = config.model();
        Datasets.TrainTest files = Datasets.load(config.data());
        ImageDataset train = Datasets.trainPart(files.train());
        ImageDataset val = Datasets.valPart(files.train());
        if (config.trainLimit() > 0 && config.trainLimit() < train.count()) {
            int[] idx = new int[config.trainLimit()];
            Arrays.setAll(idx, i -> i);
            train = train.subset(train.name() + "[:" + config.trainLimit() + "]", idx);
        }
        Evaluator.checkCompatible(arch, train);

        VisionTransformer model = new VisionTransformer(backend, arch);
        ViTInitializer.initialize(model, config.seed());
        AdamW optimizer = new AdamW(model.arena(), (float) config.weightDecay());
        BatchLoader loader = new BatchLoader(train, arch.inputMean(), arch.inputStd(), config.batchSize(), true, true,
                config.cropPadding(), config.hflip(), config.seed());
        int steps = loader.batchesPerEpoch();
        if (steps == 0) {
            throw new FormatException(config.data() + ": " + train.count() + " training images is less than one batch of "
                    + config.batchSize());
        }
        CosineSchedule schedule = new CosineSchedule(config.lr(), config.minLr(), 0,
                Math.round(config.warmupEpochs() * steps), (long) config.epochs() * steps);

        createRunDir(resume);
        String configYaml = Configs.toYaml(config);
        Path checkpointPath = runDir.resolve(CHECKPOINT);
        int startEpoch = 0;
        long step = 0;
        if (resume) {
            Checkpoint.State s = Checkpoint.restore(checkpointPath, model, optimizer);
            startEpoch = s.epochsDone();
            step = s.step();
            out.printf(Locale.ROOT, "resuming %s after epoch %d (step %d)%n", runDir, startEpoch, step);
        } else {
            AtomicFiles.writeString(runDir.resolve(CONFIG), configYaml);
        }
        MetricsLog metrics = new MetricsLog(runDir.resolve(METRICS), startEpoch);
        out.printf(Locale.ROOT, "%s: %,d parameters, %,d multiply-accumulates per image; %d train / %d val images, "
                        + "%d steps per epoch, backend %s%n", arch, model.parameterCount(), model.macsPerImage(),
                train.count(), val.count(), steps, backend.name());

        float[] images = new float[config.batchSize() * arch.imageSize()];
        int[] labels = new int[config.batchSize()];
        Tensor input = backend.allocate(config.batchSize() * arch.imageSize());
        Tensor dLogits = backend.allocate(config.batchSize() * arch.numClasses());
        Evaluator.Result valResult = null;
        double lastImgPerSecond = 0;
        long runStart = System.nanoTime();
        int stopEpoch = (int) Math.min(config.epochs(), (long) startEpoch + epochBudget);
        for (int epoch = startEpoch; epoch < stopEpoch; epoch++) {
            BatchLoader.Epoch batches = loader.epoch(epoch);
            double lossSum = 0;
            long correct = 0;
            long seen = 0;
            long t0 = System.nanoTime();
            String task = String.format(Locale.ROOT, "epoch %d/%d", epoch + 1, config.epochs());
            try (Progress progress = Progress.create(task, steps, out)) {
                for (int b = 0; b < steps; b++) {
                    int n = batches.fill(b, images, labels);
                    Tensor in = input.head((long) n * arch.imageSize());
                    backend.upload(images, 0, in);
                    Tensor logits = model.forward(in, n);
                    LossResult r = backend.crossEntropy(logits, labels, dLogits, n, arch.numClasses(),
                            (float) config.labelSmoothing(), 1f / n, false);
                    if (!Double.isFinite(r.lossSum())) {
                        throw new TrainingDivergedException(String.format(Locale.ROOT,
                                "loss became %s at epoch %d, step %d; stopped. The last good checkpoint (%s) is "
                                        + "untouched: resume from it with a lower --lr", r.lossSum(), epoch + 1, step,
                                epoch > 0 || resume ? checkpointPath : "none yet"));
                    }
                    model.arena().zeroGrads();
                    model.backward(dLogits);
                    if (config.clipGrad() > 0) {
                        GradientClipping.clip(model.arena(), config.clipGrad());
                    }
                    optimizer.step((float) schedule.lr(step));
                    step++;
                    lossSum += r.lossSum();
                    correct += r.correct();
                    seen += n;
                    double secs = (System.nanoTime() - t0) / 1e9;
                    progress.step(1, String.format(Locale.ROOT, "loss %.4f acc %.2f%% %.0f img/s", lossSum / seen,
                            100.0 * correct / seen, seen / secs));
                }
            }
            double epochSeconds = (System.nanoTime() - t0) / 1e9;
            lastImgPerSecond = seen / epochSeconds;
            valResult = Evaluator.evaluate(model, val, config.evalBatchSize());
            out.printf(Locale.ROOT, "epoch %d/%d: train loss %.4f acc %.2f%%, val loss %.4f acc %.2f%%, %.0f img/s, "
                            + "%.0f s%n", epoch + 1, config.epochs(), lossSum / seen, 100.0 * correct / seen,
                    valResult.loss(), 100 * valResult.top1(), lastImgPerSecond, epochSeconds);
            metrics.append(new MetricsLog.Row(epoch + 1, step, schedule.lr(Math.max(0, step - 1)), lossSum / seen,
                    100.0 * correct / seen, valResult.loss(), 100 * valResult.top1(), lastImgPerSecond, epochSeconds));
            Checkpoint.save(checkpointPath, model, optimizer,
                    new Checkpoint.State(epoch + 1, step, optimizer.stepCount(), configYaml));
        }
        if (valResult == null) {
            valResult = Evaluator.evaluate(model, val, config.evalBatchSize());
        }
        if (stopEpoch < config.epochs()) {
            out.printf(Locale.ROOT, "stopped after epoch %d of %d; continue with --resume%n", stopEpoch,
                    config.epochs());
            return new Summary(stopEpoch, valResult.top1(), valResult.loss(), lastImgPerSecond,
                    (System.nanoTime() - runStart) / 1e9, null);
        }
        Path modelPath = runDir.resolve(MODEL);
        ModelIO.save(model, modelPath, Map.of("train.epochs", Integer.toString(config.epochs()),
                "train.data", config.data(), "train.val_top1", String.format(Locale.ROOT, "%.4f", valResult.top1())));
        return new Summary(config.epochs(), valResult.top1(), valResult.loss(), lastImgPerSecond,
                (System.nanoTime() - runStart) / 1e9, modelPath);
    }

    private void createRunDir(boolean resume) {
        try {
            if (!resume && Files.exists(runDir.resolve(CHECKPOINT))) {
                throw new FormatException(runDir + " already holds a checkpoint: pass --resume to continue that run, "
                        + "or choose another --out");
            }
            Files.createDirectories(runDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create run directory " + runDir, e);
        }
    }
}
