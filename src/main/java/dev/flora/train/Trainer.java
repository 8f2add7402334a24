package dev.flora.train;

import dev.flora.config.LoopSettings;

import dev.flora.config.Configs;

import dev.flora.data.Datasets;
import dev.flora.data.ImageDataset;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Pre-trains a dense ViT from scratch with the {@link TrainingLoop}: label smoothing, timm
 * init, validation on the held-out split after each epoch. Writes {@code config.yaml} at the
 * start and {@code model.safetensors} when the last epoch is done.
 */
public final class Trainer {
    public static final String CONFIG = "config.yaml";
    public static final String CHECKPOINT = TrainingLoop.CHECKPOINT;
    public static final String MODEL = "model.safetensors";
    public static final String METRICS = TrainingLoop.METRICS;
    private static final String CONFIG_KEY = "train.config";

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
        String yaml = Checkpoint.readState(cp).metadata().get(CONFIG_KEY);
        if (yaml == null) {
            throw new FormatException(cp + ": not a pre-training checkpoint (no " + CONFIG_KEY + ")");
        }
        return Configs.fromYaml(yaml, TrainConfig.class, cp.toString());
    }

    /** What a run reports; {@code model} is null when it stopped before the last epoch. */
    public record Summary(int epochs, double valTop1, double valLoss, double imgPerSecond, double seconds,
                          Path model) {
    }

    public Summary run(boolean resume) {
        return run(resume, Integer.MAX_VALUE);
    }

    /** Trains for at most {@code epochBudget} epochs in this call (continue with resume). */
    public Summary run(boolean resume, int epochBudget) {
        VisionTransformer init = config.initFrom() == null ? null
                : dev.flora.models.ModelSource.load(config.initFrom(), backend, java.util.OptionalInt.empty());
        if (init != null && !init.linears().values().stream().allMatch(l -> l instanceof dev.flora.engine.nn.Linear)) {
            throw new FormatException(config.initFrom() + ": init_from needs a dense model");
        }
        ViTConfig arch = init != null ? init.config() : config.model();
        Datasets.TrainTest files = Datasets.load(config.data());
        ImageDataset train = Datasets.trainPart(files.train());
        ImageDataset val = Datasets.valPart(files.train());
        if (config.trainLimit() > 0 && config.trainLimit() < train.count()) {
            int[] idx = new int[config.trainLimit()];
            Arrays.setAll(idx, i -> i);
            train = train.subset(train.name() + "[:" + config.trainLimit() + "]", idx);
        }
        Evaluator.checkCompatible(arch, train);
        TrainingLoop.prepareRunDir(runDir, resume);
        String configYaml = Configs.toYaml(config);
        if (!resume) {
            AtomicFiles.writeString(runDir.resolve(CONFIG), configYaml);
        }

        VisionTransformer model = new VisionTransformer(backend, arch);
        ViTInitializer.initialize(model, config.seed());
        if (init != null) {
            backend.copy(init.arena().values(), model.arena().values());
        }
        out.printf(Locale.ROOT, "%s: %,d parameters, %,d multiply-accumulates per image; %d train / %d val images, "
                        + "backend %s%n", arch, model.parameterCount(), model.macsPerImage(), train.count(), val.count(),
                backend.name());
        LoopSettings loop = config.loop();
        PretrainTask task = new PretrainTask(model, val, config.labelSmoothing(), loop.batchSize(),
                loop.evalBatchSize());
        TrainingLoop.Outcome o = new TrainingLoop(loop, runDir, out).run(task, train, resume, epochBudget,
                () -> Map.of(CONFIG_KEY, configYaml));
        double top1 = o.validation().getOrDefault("val_top1", Double.NaN) / 100;
        double loss = o.validation().getOrDefault("val_loss", Double.NaN);
        if (!o.finished()) {
            return new Summary(o.epochsDone(), top1, loss, o.imgPerSecond(), o.seconds(), null);
        }
        if (o.validation().isEmpty()) {
            Evaluator.Result r = Evaluator.evaluate(model, val, loop.evalBatchSize());
            top1 = r.top1();
            loss = r.loss();
        }
        Path modelPath = runDir.resolve(MODEL);
        ModelIO.save(model, modelPath, Map.of("train.epochs", Integer.toString(config.epochs()),
                "train.data", config.data(), "train.val_top1", String.format(Locale.ROOT, "%.4f", top1)));
        return new Summary(config.epochs(), top1, loss, o.imgPerSecond(), o.seconds(), modelPath);
    }
}
