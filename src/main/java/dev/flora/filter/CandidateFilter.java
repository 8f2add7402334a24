package dev.flora.filter;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.config.Configs;
import dev.flora.config.FilterConfig;
import dev.flora.config.Method;
import dev.flora.data.BatchLoader;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.models.ModelInput;
import dev.flora.models.ModelPreprocessing;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LossResult;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import dev.flora.models.ModelSource;
import dev.flora.space.Candidate;
import dev.flora.space.CostModel;
import dev.flora.space.SearchSpace;
import dev.flora.stage.RunDirectory;
import dev.flora.stage.Stage;
import dev.flora.supernet.Supernet;
import dev.flora.supernet.SupernetTask;
import dev.flora.supernet.SupernetTrainer;
import dev.flora.train.Evaluator;
import dev.flora.train.Progress;
import dev.flora.train.TrainingLoop;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * FLORA's low-rank aware candidate filtering. Block by block: a local supernet (only that block
 * factorized, the rest dense from the backbone) trains with LRAT on a proxy set; then every
 * tuple of the block is scored. The tokens entering the block are computed once per image and
 * cached, so scoring a tuple costs only the block and the ones after it. The kept tuples of all
 * blocks make the filtered search space, written as {@code search_space.json}. Each block's
 * result is a file of its own, so an interrupted run resumes at the block it was on.
 */
public final class CandidateFilter implements Stage<CandidateFilter.Result> {
    public static final String SPACE = "search_space.json";
    public static final String CONFIG = "config.yaml";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A block's scores so far, in each block's folder while it is being scored. */
    static final String PARTIAL_SCORES = "scores-partial.json";
    private static final long PARTIAL_EVERY_SECONDS = 30;
    private static final TypeReference<List<Score>> SCORE_LIST = new TypeReference<>() { };

    private final FilterConfig config;
    private final Path runDir;
    private final Backend backend;
    private final PrintStream out;

    public CandidateFilter(FilterConfig config, Path runDir, Backend backend, PrintStream out) {
        this.config = config;
        this.runDir = runDir;
        this.backend = backend;
        this.out = out;
    }

    /** One scored tuple: P in points, F in percent of the block's dense FLOPs, M = λ·P − F. */
    public record Score(@JsonProperty("tuple") int[] tuple, @JsonProperty("top1") double top1,
                        @JsonProperty("flops_pct") double flopsPct, @JsonProperty("metric") double metric) {
    }

    /** One block's outcome, as written to {@code block-<i>.json}. */
    public record BlockResult(@JsonProperty("block") int block, @JsonProperty("kept") List<int[]> kept,
                              @JsonProperty("scores") List<Score> scores,
                              @JsonProperty("train_seconds") double trainSeconds,
                              @JsonProperty("score_seconds") double scoreSeconds) {
    }

    /** The filtered space and where it was written; both null when the run stopped before the last block. */
    public record Result(SearchSpace space, Path file, List<BlockResult> blocks, double seconds) {
    }

    /** Filters every block not filtered yet. */
    public Result run() {
        return run(true, Integer.MAX_VALUE);
    }

    @Override
    public Path dir() {
        return runDir;
    }

    @Override
    public boolean isDone() {
        return Files.exists(runDir.resolve(SPACE));
    }

    /** Finished blocks are files of their own, so a filter run always continues where it stopped. */
    @Override
    public boolean canResume() {
        return Files.exists(runDir.resolve(CONFIG));
    }

    @Override
    public Result finished() {
        ViTConfig arch = ModelSource.load(config.model(), backend, OptionalInt.empty()).config();
        Path file = runDir.resolve(SPACE);
        return new Result(SearchSpace.read(file, arch), file, List.of(), 0);
    }

    /**
     * Filters at most {@code blockBudget} blocks in this call; blocks already filtered are read
     * back whatever {@code resume} says, since each is a finished result of its own.
     */
    @Override
    public Result run(boolean resume, int blockBudget) {
        long t0 = System.nanoTime();
        ModelSource.LoadedModel denseFile = ModelSource.open(config.model(), backend, OptionalInt.empty());
        VisionTransformer dense = denseFile.model();
        ModelInput input = ModelInput.of(denseFile, ModelPreprocessing.Overrides.none(), out::println);
        ViTConfig arch = dense.config();
        SearchSpace full = SupernetTrainer.space(config.localSupernet(), arch);
        Datasets.TrainTest files = Datasets.load(config.data());
        ImageSource proxy = Datasets.fraction(Datasets.trainPart(files.trainFile()), config.proxyFraction(),
                config.loop().seed(), "proxy");
        ImageSource val = Datasets.valPart(files.trainFile());
        int scoreCount = Math.max(1, (int) Math.round(config.scoreFraction() * val.count()));
        ImageSource scoring = Datasets.first(val, scoreCount);
        Evaluator.checkCompatible(arch, input, proxy);
        String yaml = Configs.toYaml(config);
        Datasets.checkReadable(proxy, scoring);
        RunDirectory.claim(runDir, CONFIG, yaml,
                saved -> Configs.normalized(saved, FilterConfig.class, FilterConfig.defaults(), CONFIG), out);
        out.printf(Locale.ROOT, "filtering %d tuples per block of %s: local supernets on %d proxy images, scores on "
                        + "%d validation images, lambda %.3g, keeping %d + dense%n",
                full.allowed(0).size(), arch, proxy.count(), scoring.count(), config.lambda(), config.topK());
        List<BlockResult> results = new ArrayList<>();
        int filtered = 0;
        for (int b = 0; b < arch.depth(); b++) {
            Path file = runDir.resolve("block-" + b + ".json");
            if (Files.exists(file)) {
                out.println("block " + b + ": done, " + file);
                results.add(read(file));
                continue;
            }
            if (filtered++ == blockBudget) {
                out.printf(Locale.ROOT, "stopped after %d blocks; run again to continue%n", blockBudget);
                return new Result(null, null, results, (System.nanoTime() - t0) / 1e9);
            }
            BlockResult r = filterBlock(dense, input, full, b, proxy, scoring);
            writeJson(file, r);
            deleteIfExists(runDir.resolve("block-" + b).resolve(PARTIAL_SCORES));
            results.add(r);
        }
        List<List<int[]>> allowed = new ArrayList<>();
        for (BlockResult r : results) {
            allowed.add(r.kept());
        }
        SearchSpace space = new SearchSpace(arch, full.targets(), full.ratios(), allowed);
        Path spaceFile = runDir.resolve(SPACE);
        space.write(spaceFile);
        out.printf(Locale.ROOT, "filtered space: %s architectures (from %s), written to %s%n", space.size(),
                full.size(), spaceFile);
        return new Result(space, spaceFile, results, (System.nanoTime() - t0) / 1e9);
    }

    private BlockResult filterBlock(VisionTransformer dense, ModelInput input, SearchSpace full, int block,
                                    ImageSource proxy, ImageSource scoring) {
        ViTConfig arch = dense.config();
        List<int[]> denseOnly = List.of(denseTuple(full));
        List<List<int[]>> allowed = new ArrayList<>();
        for (int b = 0; b < arch.depth(); b++) {
            allowed.add(b == block ? full.allowed(b) : denseOnly);
        }
        SearchSpace local = new SearchSpace(arch, full.targets(), full.ratios(), allowed);
        Supernet supernet = Supernet.fromDense(dense, input, local, Method.LRAT);
        Path dir = runDir.resolve("block-" + block);
        boolean resume = Files.exists(dir.resolve(TrainingLoop.CHECKPOINT));
        TrainingLoop.prepareRunDir(dir, resume);
        Path partial = dir.resolve(PARTIAL_SCORES);
        if (!resume) {
            deleteIfExists(partial); // scores of a local supernet that is no longer there
        }
        long t0 = System.nanoTime();
        out.printf(Locale.ROOT, "block %d: training its local supernet%s%n", block, resume ? " (resuming)" : "");
        SupernetTask task = new SupernetTask(supernet, dense, null, config.localSupernet());
        new TrainingLoop(config.loop(), dir, out).run(task, proxy, resume, Integer.MAX_VALUE,
                supernet::metadata);
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        long t1 = System.nanoTime();
        List<Score> scores = score(supernet, local, block, scoring, partial);
        double scoreSeconds = (System.nanoTime() - t1) / 1e9;
        List<Score> ranked = new ArrayList<>(scores);
        ranked.sort(Comparator.comparingDouble(Score::metric).reversed().thenComparing(s -> Arrays.toString(s.tuple())));
        List<int[]> kept = new ArrayList<>();
        for (int i = 0; i < Math.min(config.topK(), ranked.size()); i++) {
            kept.add(ranked.get(i).tuple());
        }
        int[] denseT = denseTuple(full);
        if (kept.stream().noneMatch(t -> Arrays.equals(t, denseT))) {
            kept.add(denseT);
        }
        kept.sort(Arrays::compare);
        Score best = ranked.get(0);
        out.printf(Locale.ROOT, "block %d: kept %d of %d tuples (best M %.2f: %s at %.2f%% top-1, %.1f%% FLOPs); "
                        + "%.1f min training, %.1f min scoring%n", block, kept.size(), scores.size(), best.metric(),
                Arrays.toString(best.tuple()), best.top1(), best.flopsPct(), trainSeconds / 60, scoreSeconds / 60);
        return new BlockResult(block, kept, scores, trainSeconds, scoreSeconds);
    }

    /**
     * Scores every tuple of {@code block}, computing the tokens entering the block once per image.
     * The scores so far are written to {@code partial} every {@link #PARTIAL_EVERY_SECONDS}, and a
     * rerun starts after them: scoring a block takes up to an hour on two cores, and the local
     * supernet they come from is the block's finished checkpoint, so they stay valid.
     */
    private List<Score> score(Supernet supernet, SearchSpace local, int block, ImageSource images, Path partial) {
        VisionTransformer model = supernet.model();
        ViTConfig arch = model.config();
        int tokenFloats = arch.tokens() * arch.embedDim();
        int batchSize = config.loop().evalBatchSize();
        int n = images.count();
        Tensor cache = backend.allocate((int) ((long) n * tokenFloats));
        int[] labels = images.labels();
        var loader = BatchLoader.forEvaluation(images, supernet.input().preprocessing(), batchSize);
        float[] buf = new float[batchSize * arch.imageSize()];
        int[] lab = new int[batchSize];
        Tensor input = backend.allocate(batchSize * arch.imageSize());
        supernet.apply(supernet.largest());
        var epoch = loader.epoch(0);
        for (int b = 0, off = 0; b < loader.batchesPerEpoch(); b++) {
            int m = epoch.fill(b, buf, lab);
            Tensor in = input.head((long) m * arch.imageSize());
            backend.upload(buf, 0, in);
            Tensor x = model.forwardTo(in, m, block);
            backend.copy(x.head((long) m * tokenFloats), cache.view((long) off * tokenFloats, m * tokenFloats));
            off += m;
        }
        CostModel cost = new CostModel(local);
        double denseBlock = CostModel.denseBlockMacs(arch);
        Tensor dLogits = backend.allocate(batchSize * arch.numClasses());
        List<int[]> tuples = local.allowed(block);
        List<Score> scores = scoredBefore(partial, tuples);
        if (!scores.isEmpty()) {
            out.printf(Locale.ROOT, "block %d: %d of %d tuples scored before, from %s%n", block, scores.size(),
                    tuples.size(), partial);
        }
        long lastWrite = System.nanoTime();
        try (var progress = Progress.create("block " + block + " scoring", tuples.size(), out)) {
            progress.step(scores.size(), "scored before");
            for (int[] tuple : tuples.subList(scores.size(), tuples.size())) {
                Candidate c = supernet.largest().withTuple(block, tuple);
                supernet.apply(c);
                long correct = 0;
                for (int off = 0; off < n; off += batchSize) {
                    int m = Math.min(batchSize, n - off);
                    Tensor logits = model.forwardFrom(cache.view((long) off * tokenFloats, m * tokenFloats), m, block);
                    LossResult r = backend.crossEntropy(logits, Arrays.copyOfRange(labels, off, off + m), dLogits, m,
                            arch.numClasses(), 0f, 0f, false);
                    correct += r.correct();
                }
                double top1 = 100.0 * correct / n;
                double flops = 100.0 * cost.blockMacs(tuple) / denseBlock;
                scores.add(new Score(tuple.clone(), top1, flops, config.lambda() * top1 - flops));
                progress.step(1, String.format(Locale.ROOT, "%s %.2f%%", Arrays.toString(tuple), top1));
                if (System.nanoTime() - lastWrite > PARTIAL_EVERY_SECONDS * 1_000_000_000L) {
                    writeJson(partial, scores);
                    lastWrite = System.nanoTime();
                }
            }
        }
        return scores;
    }

    /** The scores in {@code partial} if they are of the first tuples of {@code tuples}, in order; else none. */
    private List<Score> scoredBefore(Path partial, List<int[]> tuples) {
        if (!Files.exists(partial)) {
            return new ArrayList<>();
        }
        List<Score> before;
        try {
            before = JSON.readValue(partial.toFile(), SCORE_LIST);
        } catch (IOException e) {
            out.println("ignoring " + partial + ": unreadable (" + e.getMessage() + "); scoring the block again");
            return new ArrayList<>();
        }
        boolean prefix = before.size() <= tuples.size();
        for (int i = 0; prefix && i < before.size(); i++) {
            prefix = Arrays.equals(before.get(i).tuple(), tuples.get(i));
        }
        if (!prefix) {
            out.println("ignoring " + partial + ": its tuples are not this space's; scoring the block again");
            return new ArrayList<>();
        }
        return new ArrayList<>(before);
    }

    private static void deleteIfExists(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int[] denseTuple(SearchSpace space) {
        int[] t = new int[space.targets().size()];
        Arrays.fill(t, space.ratios().length - 1);
        return t;
    }

    private static void writeJson(Path file, Object value) {
        try {
            AtomicFiles.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static BlockResult read(Path file) {
        try {
            return JSON.readValue(file.toFile(), BlockResult.class);
        } catch (IOException e) {
            throw new FormatException(file + ": corrupt block result (" + e.getMessage() + ")");
        }
    }
}
