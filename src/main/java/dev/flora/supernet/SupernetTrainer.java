package dev.flora.supernet;

import dev.flora.calibration.ActivationAwareFactors;
import dev.flora.calibration.InputCovariance;
import dev.flora.config.Configs;
import dev.flora.config.Method;
import dev.flora.config.SupernetConfig;
import dev.flora.config.SupernetInit;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.models.ModelInput;
import dev.flora.models.ModelPreprocessing;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.linalg.LowRankFactors;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.models.ModelSource;
import dev.flora.space.SearchSpace;
import dev.flora.stage.Stage;
import dev.flora.train.Checkpoint;
import dev.flora.train.Evaluator;
import dev.flora.train.TrainingLoop;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Builds a supernet from a dense checkpoint by SVD and trains it with LRAT or SPOS and
 * in-place distillation from the dense model. Writes {@code config.yaml}, {@code metrics.csv},
 * {@code checkpoint.safetensors} per epoch, and {@code supernet.safetensors} at the end.
 */
public final class SupernetTrainer implements Stage<SupernetTrainer.Result> {
    public static final String SUPERNET = "supernet.safetensors";
    public static final String CONFIG = "config.yaml";
    private static final String CONFIG_KEY = "supernet.config";

    private final SupernetConfig config;
    private final Path runDir;
    private final Backend backend;
    private final PrintStream out;

    public SupernetTrainer(SupernetConfig config, Path runDir, Backend backend, PrintStream out) {
        this.config = config;
        this.runDir = runDir;
        this.backend = backend;
        this.out = out;
    }

    /** The config a run directory was started with. */
    public static SupernetConfig savedConfig(Path runDir) {
        return Checkpoint.savedConfig(runDir, CONFIG_KEY, SupernetConfig.class, SupernetConfig.defaults(),
                "supernet training");
    }

    /** The search space of a config, for a backbone of {@code config}. */
    public static SearchSpace space(SupernetConfig c, ViTConfig arch) {
        return SearchSpace.resolve(arch, c.searchSpace(), c.space().includeProj(), c.space().ratios());
    }

    /** What a run leaves: the trained supernet (null if stopped early) and its last validation. */
    public record Result(Path supernet, Map<String, Double> validation, double imgPerSecond, double seconds) {
    }

    @Override
    public Path dir() {
        return runDir;
    }

    @Override
    public boolean isDone() {
        return Files.exists(runDir.resolve(SUPERNET));
    }

    @Override
    public boolean canResume() {
        return Files.exists(runDir.resolve(TrainingLoop.CHECKPOINT));
    }

    @Override
    public Result finished() {
        return new Result(runDir.resolve(SUPERNET), Map.of(), Double.NaN, 0);
    }

    /** Trains for at most {@code epochBudget} epochs in this call (continue with resume). */
    @Override
    public Result run(boolean resume, int epochBudget) {
        ModelSource.LoadedModel teacherFile = ModelSource.open(config.model(), backend, OptionalInt.empty());
        VisionTransformer teacher = teacherFile.model();
        ModelInput input = ModelInput.of(teacherFile, ModelPreprocessing.Overrides.none(), out::println);
        SearchSpace space = space(config, teacher.config());
        Datasets.TrainTest files = Datasets.load(config.data());
        ImageSource train = Datasets.first(Datasets.trainPart(files.trainFile()), config.loop().trainLimit());
        ImageSource val = Datasets.valPart(files.trainFile());
        Evaluator.checkCompatible(teacher.config(), input, train);
        Datasets.checkReadable(train, val);
        TrainingLoop.prepareRunDir(runDir, resume);
        String yaml = Configs.toYaml(config);
        if (!resume) {
            AtomicFiles.writeString(runDir.resolve(CONFIG), yaml);
        }
        Method method = config.method();
        // a resumed run restores every factor from its checkpoint, so only a fresh one calibrates
        Supernet supernet = Supernet.fromDense(teacher, input, space, method,
                resume ? Map.of() : initialFactors(teacher, input, space, train));
        out.printf(Locale.ROOT, "%s supernet over %s: %s architectures, %,d trainable parameters; %d train / %d val "
                        + "images%n", method.label().toUpperCase(Locale.ROOT), teacher.config(), space.size(),
                supernet.model().parameterCount(), train.count(), val.count());
        SupernetTask task = new SupernetTask(supernet, teacher, val, config);
        Map<String, String> meta = new LinkedHashMap<>(supernet.metadata());
        meta.put(CONFIG_KEY, yaml);
        TrainingLoop.Outcome o = new TrainingLoop(config.loop(), runDir, out).run(task, train, resume, epochBudget,
                () -> meta);
        Path path = null;
        if (o.finished()) {
            path = runDir.resolve(SUPERNET);
            supernet.save(path);
        }
        return new Result(path, o.validation(), o.imgPerSecond(), o.seconds());
    }

    /** The factors {@code supernet.init} asks for; none (the plain SVD of each weight) for svd. */
    private Map<String, LowRankFactors> initialFactors(VisionTransformer teacher, ModelInput input, SearchSpace space,
                                                       ImageSource train) {
        if (config.init() == SupernetInit.SVD) {
            return Map.of();
        }
        ImageSource images = Datasets.first(train, config.calibrationImages());
        out.printf(Locale.ROOT, "activation-aware initialization: layer inputs of %d training images%n", images.count());
        List<String> paths = space.modulePaths();
        return ActivationAwareFactors.of(teacher, InputCovariance.collect(teacher, input, images, paths), paths);
    }
}
