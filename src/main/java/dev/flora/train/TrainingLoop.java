package dev.flora.train;

import dev.flora.config.LoopSettings;
import dev.flora.data.BatchLoader;
import dev.flora.data.ImageSource;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LossResult;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.optim.AdamW;
import dev.flora.engine.optim.CosineSchedule;
import dev.flora.engine.optim.GradientClipping;
import dev.flora.engine.tensor.Tensor;
import dev.flora.stage.RunDirectory;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The epoch loop shared by pre-training and supernet training: seeded batches with
 * augmentation, AdamW (timm grouping) on a per-step cosine schedule with warm-up, updating only
 * the weights the step's architecture used (a rank-r subnet moves VT[:r] and U[:, :r]), global-norm
 * clipping, a divergence check on every step, a progress bar, and after each epoch the
 * task's validation, a row of {@code metrics.csv} and an atomic {@code checkpoint.safetensors}.
 * Resuming restores weights, optimizer moments and counters, and since all randomness derives
 * from (seed, epoch, batch), ends bit-identical to an uninterrupted run.
 */
public final class TrainingLoop {
    public static final String CHECKPOINT = "checkpoint.safetensors";
    public static final String METRICS = "metrics.csv";

    private final LoopSettings settings;
    private final Path runDir;
    private final PrintStream out;

    public TrainingLoop(LoopSettings settings, Path runDir, PrintStream out) {
        this.settings = settings;
        this.runDir = runDir;
        this.out = out;
    }

    /** Where a loop stopped. */
    public record Outcome(int epochsDone, boolean finished, Map<String, Double> validation, double imgPerSecond,
                          double seconds) {
    }

    /**
     * Fails unless the run directory may be (re)used: a fresh run must not overwrite a
     * checkpoint, a resumed run needs one. Creates the directory and clears what killed writes left.
     */
    public static void prepareRunDir(Path runDir, boolean resume) {
        Path cp = runDir.resolve(CHECKPOINT);
        if (!resume && Files.exists(cp)) {
            throw new FormatException(runDir + " already holds a checkpoint: pass --resume to continue that run, "
                    + "or choose another --out");
        }
        if (resume && !Files.exists(cp)) {
            throw new FormatException(runDir + ": no " + CHECKPOINT + " to resume from");
        }
        RunDirectory.open(runDir);
    }

    /**
     * Trains {@code task} on {@code train} until all epochs are done or {@code epochBudget} epochs
     * ran in this call. {@code metadata} supplies what each checkpoint records besides weights
     * and counters (the config, the search space, ...).
     */
    public Outcome run(TrainingTask task, ImageSource train, boolean resume, int epochBudget,
                       Supplier<Map<String, String>> metadata) {
        VisionTransformer model = task.model();
        ViTConfig arch = model.config();
        Backend backend = model.backend();
        AdamW optimizer = new AdamW(model.arena(), 0.9f, (float) settings.adamBeta2(), 1e-8f,
                (float) settings.weightDecay());
        BatchLoader loader = new BatchLoader(train, task.input().preprocessing(), settings.batchSize(), true, true,
                settings.cropPadding(), settings.hflip(), settings.seed());
        int steps = loader.batchesPerEpoch();
        if (steps == 0) {
            throw new FormatException(train.name() + ": " + train.count() + " training images is less than one batch of "
                    + settings.batchSize());
        }
        CosineSchedule schedule = new CosineSchedule(settings.lr(), settings.minLr(), 0,
                Math.round(settings.warmupEpochs() * steps), (long) settings.epochs() * steps);
        Path checkpointPath = runDir.resolve(CHECKPOINT);
        int startEpoch = 0;
        long step = 0;
        if (resume) {
            Checkpoint.State s = Checkpoint.restore(checkpointPath, model, optimizer);
            startEpoch = s.epochsDone();
            step = s.step();
            out.printf(Locale.ROOT, "resuming %s after epoch %d (step %d)%n", runDir, startEpoch, step);
        }
        MetricsLog metrics = new MetricsLog(runDir.resolve(METRICS), startEpoch);

        float[] images = new float[settings.batchSize() * arch.imageSize()];
        int[] labels = new int[settings.batchSize()];
        Tensor input = backend.allocate(settings.batchSize() * arch.imageSize());
        Map<String, Double> validation = Map.of();
        double imgPerSecond = 0;
        long runStart = System.nanoTime();
        int stopEpoch = (int) Math.min(settings.epochs(), (long) startEpoch + epochBudget);
        for (int epoch = startEpoch; epoch < stopEpoch; epoch++) {
            BatchLoader.Epoch batches = loader.epoch(epoch);
            double lossSum = 0;
            long correct = 0;
            long seen = 0;
            long t0 = System.nanoTime();
            String label = String.format(Locale.ROOT, "epoch %d/%d", epoch + 1, settings.epochs());
            try (Progress progress = Progress.create(label, steps, out)) {
                for (int b = 0; b < steps; b++) {
                    int n = batches.fill(b, images, labels);
                    Tensor in = input.head((long) n * arch.imageSize());
                    backend.upload(images, 0, in);
                    model.arena().zeroGrads();
                    LossResult r = task.step(in, labels, n, step);
                    if (!Double.isFinite(r.lossSum())) {
                        throw new TrainingDivergedException(String.format(Locale.ROOT,
                                "loss became %s at epoch %d, step %d; stopped. The last good checkpoint (%s) is "
                                        + "untouched: resume from it with a lower --lr", r.lossSum(), epoch + 1, step,
                                Files.exists(checkpointPath) ? checkpointPath : "none yet"));
                    }
                    if (settings.clipGrad() > 0) {
                        GradientClipping.clip(model.arena(), settings.clipGrad());
                    }
                    optimizer.step((float) schedule.lr(step), model.trainableRegions());
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
            imgPerSecond = seen / epochSeconds;
            LinkedHashMap<String, Double> val = task.validate();
            validation = val;
            StringBuilder vs = new StringBuilder();
            val.forEach((k, v) -> vs.append(String.format(Locale.ROOT, ", %s %.4f", k, v)));
            out.printf(Locale.ROOT, "epoch %d/%d: train loss %.4f acc %.2f%%%s, %.0f img/s, %.0f s%n", epoch + 1,
                    settings.epochs(), lossSum / seen, 100.0 * correct / seen, vs, imgPerSecond, epochSeconds);
            metrics.append(epoch + 1, step, schedule.lr(Math.max(0, step - 1)), lossSum / seen, 100.0 * correct / seen,
                    imgPerSecond, epochSeconds, val);
            Checkpoint.save(checkpointPath, model, optimizer,
                    new Checkpoint.State(epoch + 1, step, optimizer.stepCount(), metadata.get()));
        }
        boolean finished = stopEpoch >= settings.epochs();
        if (!finished) {
            out.printf(Locale.ROOT, "stopped after epoch %d of %d; continue with --resume%n", stopEpoch,
                    settings.epochs());
        }
        return new Outcome(stopEpoch, finished, validation, imgPerSecond, (System.nanoTime() - runStart) / 1e9);
    }
}
