package dev.flora.supernet;

import dev.flora.data.Datasets;
import dev.flora.data.ImageDataset;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.models.ModelSource;
import dev.flora.space.SearchSpace;
import dev.flora.train.Checkpoint;
import dev.flora.config.Configs;
import dev.flora.train.Evaluator;
import dev.flora.train.TrainingLoop;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Builds a supernet from a dense checkpoint by SVD and trains it with LRAT or SPOS and
 * in-place distillation from the dense model. Writes {@code config.yaml}, {@code metrics.csv},
 * {@code checkpoint.safetensors} per epoch, and {@code supernet.safetensors} at the end.
 */
public final class SupernetTrainer {
    public static final String SUPERNET = "supernet.safetensors";
    public static final String CONFIG = "config.yaml";
    private static final String CONFIG_KEY = "supernet.config";

    private final SupernetConfig config;
    private final Path runDir;
    private final Backend backend;
    private final PrintStream out;

    public SupernetTrainer(SupernetConfig config, Path runDir, Backend backend, PrintStream out) {
        this.config = config.validated();
        this.runDir = runDir;
        this.backend = backend;
        this.out = out;
    }

    public static SupernetConfig savedConfig(Path runDir) {
        Path cp = runDir.resolve(TrainingLoop.CHECKPOINT);
        if (!Files.exists(cp)) {
            throw new FormatException(runDir + ": no " + TrainingLoop.CHECKPOINT + " to resume from");
        }
        String yaml = Checkpoint.readState(cp).metadata().get(CONFIG_KEY);
        if (yaml == null) {
            throw new FormatException(cp + ": not a supernet training checkpoint (no " + CONFIG_KEY + ")");
        }
        return Configs.fromYaml(yaml, SupernetConfig.class, cp.toString());
    }

    /** The search space of a config, for a backbone of {@code config}. */
    public static SearchSpace space(SupernetConfig c, dev.flora.engine.nn.ViTConfig arch) {
        if (c.searchSpace() != null) {
            return SearchSpace.read(ModelSource.resolveSearchSpace(c.searchSpace()), arch);
        }
        SearchSpace d = SearchSpace.defaults(arch, c.includeProj());
        return c.ratios() == null ? d : SearchSpace.full(arch, d.targets(), c.ratios());
    }

    /** What a run leaves: the trained supernet (null if stopped early) and its last validation. */
    public record Result(Path supernet, Map<String, Double> validation, double imgPerSecond, double seconds) {
    }

    public Result run(boolean resume, int epochBudget) {
        VisionTransformer teacher = ModelSource.load(config.model(), backend, OptionalInt.empty());
        SearchSpace space = space(config, teacher.config());
        Datasets.TrainTest files = Datasets.load(config.data());
        ImageDataset train = Datasets.trainPart(files.train());
        ImageDataset val = Datasets.valPart(files.train());
        if (config.trainLimit() > 0 && config.trainLimit() < train.count()) {
            int[] idx = new int[config.trainLimit()];
            Arrays.setAll(idx, i -> i);
            train = train.subset(train.name() + "[:" + config.trainLimit() + "]", idx);
        }
        Evaluator.checkCompatible(teacher.config(), train);
        TrainingLoop.prepareRunDir(runDir, resume);
        String yaml = Configs.toYaml(config);
        if (!resume) {
            AtomicFiles.writeString(runDir.resolve(CONFIG), yaml);
        }
        Method method = Method.parse(config.method());
        Supernet supernet = Supernet.fromDense(teacher, space, method);
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
}
