package dev.flora.train;

import dev.flora.config.Configs;
import dev.flora.config.LoopSettings;
import dev.flora.config.TrainConfig;
import dev.flora.data.Datasets;
import dev.flora.data.ImageDataset;
import dev.flora.data.ImageSource;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.nn.Linear;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.image.Preprocessing;
import dev.flora.models.ModelInput;
import dev.flora.models.ModelPreprocessing;
import dev.flora.models.ModelSource;
import dev.flora.stage.Stage;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Pre-trains a dense ViT from scratch with the {@link TrainingLoop}: label smoothing, timm
 * init, validation on the held-out split after each epoch. Writes {@code config.yaml} at the
 * start and {@code model.safetensors} when the last epoch is done.
 */
public final class Trainer implements Stage<Trainer.Summary> {
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
        this.config = config;
        this.runDir = runDir;
        this.backend = backend;
        this.out = out;
    }

    /** The config a run directory was started with. */
    public static TrainConfig savedConfig(Path runDir) {
        return Checkpoint.savedConfig(runDir, CONFIG_KEY, TrainConfig.class, TrainConfig.defaults(), "pre-training");
    }

    /** What a run reports; {@code model} is null when it stopped before the last epoch. */
    public record Summary(int epochs, double valTop1, double valLoss, double imgPerSecond, double seconds,
                          Path model) {
    }

    public Summary run(boolean resume) {
        return run(resume, Integer.MAX_VALUE);
    }

    @Override
    public Path dir() {
        return runDir;
    }

    @Override
    public boolean isDone() {
        return Files.exists(runDir.resolve(MODEL));
    }

    @Override
    public boolean canResume() {
        return Files.exists(runDir.resolve(CHECKPOINT));
    }

    @Override
    public Summary finished() {
        return new Summary(config.loop().epochs(), Double.NaN, Double.NaN, Double.NaN, 0, runDir.resolve(MODEL));
    }

    /** Trains for at most {@code epochBudget} epochs in this call (continue with resume). */
    @Override
    public Summary run(boolean resume, int epochBudget) {
        ModelSource.LoadedModel initFile = config.initFrom() == null ? null
                : ModelSource.open(config.initFrom(), backend, OptionalInt.empty());
        VisionTransformer init = initFile == null ? null : initFile.model();
        if (init != null && !init.linears().values().stream().allMatch(l -> l instanceof Linear)) {
            throw new FormatException(config.initFrom() + ": init_from needs a dense model");
        }
        Datasets.TrainTest files = Datasets.load(config.data());
        ImageSource trainFile = files.trainFile();
        ViTConfig arch = init != null ? init.config() : withClasses(config.model(), trainFile.classes());
        LoopSettings loop = config.loop();
        ImageSource train = Datasets.first(Datasets.trainPart(trainFile), loop.trainLimit());
        ImageSource val = Datasets.valPart(trainFile);
        ModelInput input = new ModelInput(initFile != null
                ? ModelPreprocessing.resolve(initFile, ModelPreprocessing.Overrides.none(), out::println)
                : preprocessingFor(arch, trainFile), trainFile.classNames());
        Evaluator.checkCompatible(arch, input, train);
        Datasets.checkReadable(train, val);
        TrainingLoop.prepareRunDir(runDir, resume);
        String configYaml = Configs.toYaml(config);
        if (!resume) {
            AtomicFiles.writeString(runDir.resolve(CONFIG), configYaml);
        }

        VisionTransformer model = config.lorita() == 0 ? new VisionTransformer(backend, arch)
                : new VisionTransformer(backend, arch, Lorita.specs(arch, config.lorita()));
        ViTInitializer.initialize(model, loop.seed());
        if (init != null) {
            backend.copy(init.arena().values(), model.arena().values());
        }
        out.printf(Locale.ROOT, "%s: %,d parameters, %,d multiply-accumulates per image; %d train / %d val images, "
                        + "backend %s%n", arch, model.parameterCount(), model.macsPerImage(), train.count(), val.count(),
                backend.name());
        PretrainTask task = new PretrainTask(model, input, val, loop.labelSmoothing(), loop.batchSize(),
                loop.evalBatchSize());
        TrainingLoop.Outcome o = new TrainingLoop(loop, runDir, out).run(task, train, resume, epochBudget,
                () -> checkpointMetadata(input, configYaml));
        double top1 = o.validation().getOrDefault("val_top1", Double.NaN) / 100;
        double loss = o.validation().getOrDefault("val_loss", Double.NaN);
        if (!o.finished()) {
            return new Summary(o.epochsDone(), top1, loss, o.imgPerSecond(), o.seconds(), null);
        }
        if (o.validation().isEmpty()) {
            Evaluator.Result r = Evaluator.evaluate(model, input, val, loop.evalBatchSize());
            top1 = r.top1();
            loss = r.loss();
        }
        Path modelPath = runDir.resolve(MODEL);
        Map<String, String> meta = new LinkedHashMap<>(input.metadata());
        meta.put("train.epochs", Integer.toString(loop.epochs()));
        meta.put("train.data", config.data());
        meta.put("train.val_top1", String.format(Locale.ROOT, "%.4f", top1));
        if (config.lorita() != 0) {
            meta.put(Lorita.METADATA_KEY, Integer.toString(config.lorita()));
        }
        ModelIO.save(config.lorita() == 0 ? model : Lorita.merged(model), modelPath, meta);
        return new Summary(loop.epochs(), top1, loss, o.imgPerSecond(), o.seconds(), modelPath);
    }

    /** The preset with one output per class of the data (a preset's class count is its home dataset's). */
    private static ViTConfig withClasses(ViTConfig c, int classes) {
        return new ViTConfig(c.imgSize(), c.patchSize(), c.inChans(), c.embedDim(), c.depth(), c.numHeads(),
                c.mlpRatio(), classes, c.inputMean(), c.inputStd(), c.distilled());
    }

    /**
     * How a new model sees its data: images already at its size (IDX, CIFAR) go in whole
     * (crop_pct 1, trained with pad-and-crop), anything else through timm's DeiT recipe
     * (RandomResizedCrop in training, resize to img/0.875 and center crop in evaluation).
     */
    static Preprocessing preprocessingFor(ViTConfig arch, ImageSource data) {
        boolean atSize = data instanceof ImageDataset d && d.height() == arch.imgSize() && d.width() == arch.imgSize();
        return new Preprocessing(arch.imgSize(), atSize ? 1.0 : Preprocessing.DEFAULT_CROP_PCT,
                Preprocessing.DEFAULT_INTERPOLATION, arch.inputMean(), arch.inputStd());
    }

    private static Map<String, String> checkpointMetadata(ModelInput input, String configYaml) {
        Map<String, String> m = new LinkedHashMap<>(input.metadata());
        m.put(CONFIG_KEY, configYaml);
        return m;
    }
}
