package dev.flora.allocation;

import dev.flora.calibration.InputCovariance;
import dev.flora.config.LoopSettings;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.nn.Linear;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.models.ModelInput;
import dev.flora.models.ModelPreprocessing;
import dev.flora.models.ModelSource;
import dev.flora.space.CostModel;
import dev.flora.space.SearchSpace;
import dev.flora.stage.RunDirectory;
import dev.flora.train.FineTuner;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * One {@code flora allocate}: the dense model in, the allocated subnet out as an ordinary model
 * file ({@link #MODEL}, what {@code flora export} writes: factorized where that saves FLOPs),
 * after an optional fine-tune, with {@link AllocationReport#JSON} and {@link AllocationReport#MARKDOWN}.
 */
public final class AllocationRun {
    public static final String MODEL = "model.safetensors";
    public static final String FINETUNE_DIR = "finetune";

    private final AllocationSettings settings;
    private final Path dir;
    private final Backend backend;
    private final PrintStream out;

    public AllocationRun(AllocationSettings settings, Path dir, Backend backend, PrintStream out) {
        this.settings = settings;
        this.dir = dir;
        this.backend = backend;
        this.out = out;
    }

    public AllocationReport run() {
        long t0 = System.nanoTime();
        ModelSource.LoadedModel loaded = ModelSource.open(settings.model(), backend, OptionalInt.empty(), out::println);
        VisionTransformer dense = loaded.model();
        if (!dense.linears().values().stream().allMatch(l -> l instanceof Linear)) {
            throw new FormatException(settings.model() + ": allocate needs a dense model (this one is factorized)");
        }
        ModelInput input = ModelInput.of(loaded, ModelPreprocessing.Overrides.none(), out::println);
        SearchSpace space = SearchSpace.defaults(dense.config(), false);
        CostModel cost = new CostModel(space);
        long denseMacs = CostModel.denseMacs(dense.config());
        long budget = Math.round(settings.target() * denseMacs);
        try {
            cost.uniformAtMost(budget); // rank 1 everywhere is the smallest subnet of every method
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--target " + settings.target() + ": " + e.getMessage(), e);
        }
        if (Files.exists(dir.resolve(MODEL))) {
            throw new FormatException(dir + " already holds an allocated model (" + MODEL + "); choose another --out");
        }
        RunDirectory.open(dir);

        Map<String, double[]> covariances = Map.of();
        int calibrated = 0;
        if (settings.method().calibrated()) {
            ImageSource images = Datasets.first(Datasets.trainPart(Datasets.load(settings.data()).trainFile()),
                    settings.calibrationImages());
            calibrated = images.count();
            out.printf(Locale.ROOT, "calibrating on %d training images of %s%n", calibrated, settings.data());
            covariances = InputCovariance.collect(dense, input, images, space.modulePaths());
        }
        Allocator.Allocation a = Allocator.allocate(settings.method(), dense, space, budget, covariances);
        VisionTransformer model = a.export(dense, input, space);
        double allocationSeconds = seconds(t0);

        long t1 = System.nanoTime();
        Double valTop1 = null;
        if (settings.finetuneEpochs() > 0) {
            valTop1 = FineTuner.fineTune(model, input, settings.data(), LoopSettings.fineTuning(settings.finetuneEpochs()),
                    dir.resolve(FINETUNE_DIR), out).valTop1();
        }
        double finetuneSeconds = seconds(t1);

        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("flora.kind", settings.method().label());
        meta.put("flora.arch", String.format(Locale.ROOT, "%s %s=%.6f", settings.method().label(),
                settings.method().threshold(), a.threshold()));
        meta.put("flora.source_model", settings.model());
        meta.put("flora.finetune_epochs", Integer.toString(settings.finetuneEpochs()));
        meta.putAll(input.metadata());
        ModelIO.save(model, dir.resolve(MODEL), meta);
        AllocationReport report = new AllocationReport(settings.method().label(), settings.model(), settings.target(),
                model.macsPerImage() / (double) denseMacs, model.macsPerImage(), denseMacs,
                settings.method().threshold(), a.threshold(), a.ranks(), calibrated, settings.finetuneEpochs(), valTop1,
                allocationSeconds, finetuneSeconds, seconds(t0), MODEL);
        report.write(dir);
        out.printf(Locale.ROOT, "%s: %s %.4f, %.1f %% of the dense FLOPs (target %.1f %%), %.1f s -> %s%n",
                settings.method().label(), settings.method().threshold(), a.threshold(), 100 * report.flopsFraction(),
                100 * settings.target(), report.totalSeconds(), dir.resolve(MODEL));
        return report;
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
