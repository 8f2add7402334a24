package dev.flora.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.allocation.AllocationBaselines;
import dev.flora.allocation.AllocationMethod;
import dev.flora.allocation.Allocator;
import dev.flora.config.AblationConfig;
import dev.flora.config.CompressConfig;
import dev.flora.config.Configs;
import dev.flora.config.LoopSettings;
import dev.flora.config.Method;
import dev.flora.config.SearchConfig;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.models.ModelInput;
import dev.flora.models.ModelPreprocessing;
import dev.flora.data.Split;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.io.SafeTensors;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.models.ModelSource;
import dev.flora.report.Accuracy;
import dev.flora.report.ParetoFront;
import dev.flora.report.ParetoPlot;
import dev.flora.search.EvolutionarySearch;
import dev.flora.space.Candidate;
import dev.flora.space.CostModel;
import dev.flora.space.SearchSpace;
import dev.flora.stage.RunDirectory;
import dev.flora.supernet.SubnetExport;
import dev.flora.supernet.Supernet;
import dev.flora.supernet.SupernetTrainer;
import dev.flora.train.Evaluator;
import dev.flora.train.FineTuner;
import dev.flora.train.Lorita;
import dev.flora.train.TrainingLoop;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Runs the ablation: filtering once, four supernets (SPOS / LRAT, each on the full and on the
 * filtered space; {@code supernets} may name fewer), a search per supernet and FLOPs target,
 * test top-1 of every searched subnet, and the uniform-rank subnets of the LRAT supernet at the
 * grid ratios and at each searched subnet's FLOPs, and the rank allocations that need no
 * supernet ({@code allocations}) at every target, of the dense model and of a LoRITa backbone
 * ({@code lorita_model}). Writes {@code ablation.csv}, {@code fronts.png},
 * {@code uniform_vs_searched.png} and {@code ablation.json}, and with more than one seed
 * {@code ablation-seeds.csv} and {@code ablation-seeds.png}. Stages are resumable as in
 * {@link Compressor}; a finished seed leaves {@code searched.json} ({@code searched-seedN.json}),
 * from which a resumed run reads it without its supernets.
 */
public final class Ablation {
    public static final String CONFIG = "config.yaml";
    /** Every seed's figures and their mean ± standard deviation, when there is more than one seed. */
    public static final String SEEDS_CSV = "ablation-seeds.csv";
    /** The seeds' means and standard deviations per method against the FLOPs target. */
    public static final String SEEDS_PNG = "ablation-seeds.png";
    /** What a finished allocation fine-tune leaves in its folder, so that a resumed run skips it. */
    static final String FINETUNED_MODEL = "model.safetensors";
    private static final String VAL_TOP1_KEY = "flora.val_top1";
    /** The rows of {@code lorita_model}'s allocations are named this plus the method. */
    static final String LORITA_PREFIX = "lorita-";
    /** One of the four supernets: its name in files and rows, how it trains, whether on the filtered space. */
    record Variant(String name, Method method, boolean filtered) {
        String title() {
            return method.label().toUpperCase(Locale.ROOT) + (filtered ? " + filtering" : "");
        }
    }

    static final List<Variant> VARIANTS = List.of(new Variant("spos", Method.SPOS, false),
            new Variant("spos-filter", Method.SPOS, true), new Variant("lrat", Method.LRAT, false),
            new Variant("lrat-filter", Method.LRAT, true));

    private final AblationConfig config;
    private final Path runDir;
    private final Backend backend;
    private final PrintStream out;
    private final PipelineStages stages;

    public Ablation(AblationConfig config, Path runDir, Backend backend, PrintStream out) {
        this.config = config;
        this.runDir = runDir;
        this.backend = backend;
        this.out = out;
        this.stages = new PipelineStages(runDir, backend, out);
    }

    /**
     * The targets (fractions of the dense FLOPs) whose window no subnet of {@code space} falls in
     * (below its smallest subnet, as a rule): the search at them would find nothing, which a run
     * would otherwise only say after hours of filtering and supernet training.
     */
    static List<Double> outOfReach(SearchSpace space, List<Double> targets, double window, long denseMacs) {
        long[] range = EvolutionarySearch.flopsRange(space);
        return targets.stream().filter(t -> outOfReach(range, t, window, denseMacs)).toList();
    }

    /** Whether no subnet of a space spanning {@code range} MACs lies in [target - window, target] of dense. */
    private static boolean outOfReach(long[] range, double target, double window, long denseMacs) {
        return range[0] > Math.round(target * denseMacs) || range[1] < Math.round((target - window) * denseMacs);
    }

    /**
     * One subnet of the comparison at one target: a searched one (variant: its supernet) or an
     * allocation of the dense model (variant: the method, METHOD+ft after its fine-tune; arch:
     * the threshold found), with its figures.
     */
    public record Row(String variant, double target, String arch, long flops, double valTop1, double testTop1) {
    }

    public List<Row> run() {
        CompressConfig c = config.asCompress();
        List<AllocationMethod> methods = AllocationBaselines.parse(config.allocations(), "allocations");
        // a resumed run may grow more seeds (each seed's stages are the same whatever their number) and gain
        // the LoRITa rows
        RunDirectory.claim(runDir, CONFIG, Configs.toYaml(config), saved -> Configs.toYaml(Configs.fromYaml(saved,
                AblationConfig.class, AblationConfig.defaults(), CONFIG).continuedBy(config)), out);
        AtomicFiles.writeString(runDir.resolve(CONFIG), Configs.toYaml(config));
        List<Variant> variants = variants(config.supernetList());
        ModelSource.LoadedModel denseFile = ModelSource.open(config.model(), backend, OptionalInt.empty());
        VisionTransformer dense = denseFile.model();
        long denseMacs = CostModel.denseMacs(dense.config());
        // checked before the hour of filtering, not after it
        ModelSource.LoadedModel lorita = config.loritaModel().isEmpty() ? null : loritaBackbone(dense);
        SearchSpace full = SupernetTrainer.space(c.supernet(), dense.config());
        long[] span = EvolutionarySearch.flopsRange(full);
        for (double target : outOfReach(full, config.targets(), config.window(), denseMacs)) {
            out.printf(Locale.ROOT, "note: target %.2f is out of the search space's reach (its subnets span %.1f%% to "
                    + "%.1f%% of dense): no supernet row at it, only the allocations; below the smallest subnet, a lower "
                    + "ratio in space.ratios (of filter and supernet) reaches it%n", target, 100.0 * span[0] / denseMacs,
                    100.0 * span[1] / denseMacs);
        }
        String filtered = variants.stream().anyMatch(Variant::filtered)
                ? stages.filter(c.filter(), "filter").toString() : null;
        ImageSource test = Datasets.load(config.data(), Split.TEST);
        int ebs = c.supernet().loop().evalBatchSize();
        double denseTest = 100 * Evaluator.evaluate(dense, ModelInput.of(denseFile, ModelPreprocessing.Overrides.none(),
                out::println), test, ebs).top1();
        // the allocations need no supernet and no seed: computed once, paired against every seed's LRAT
        Map<Row, boolean[]> allocated = allocations(methods, denseFile, "", test, ebs);
        if (lorita != null) {
            allocated.putAll(allocations(methods, lorita, LORITA_PREFIX, test, ebs));
        }
        List<SeedResult> seeds = new ArrayList<>();
        for (int seed = 0; seed < config.seeds(); seed++) {
            if (config.seeds() > 1) {
                out.printf(Locale.ROOT, "== seed %d of %d%n", seed + 1, config.seeds());
            }
            // seed 0 keeps the stage names of a one-seed run, so that a run can grow more seeds by resuming
            seeds.add(runSeed(config.forSeed(seed), seed == 0 ? "" : "-seed" + seed, variants, filtered, allocated,
                    dense, test, ebs));
        }
        SeedResult first = seeds.get(0);
        for (Difference d : first.differences()) {
            out.printf(Locale.ROOT, "target %.2f: %s vs %s: %s%n", d.target(), d.a(), d.b(), d.describe());
        }
        // a seed read from its file ran its stages in an earlier invocation, which kept their seconds in it
        Map<String, Double> stageSeconds = new LinkedHashMap<>(stages.seconds());
        seeds.forEach(s -> s.stageSeconds().forEach(stageSeconds::putIfAbsent));
        write(variants, first.rows(), first.uniformGrid(), first.uniformMatched(), denseMacs, denseTest,
                first.differences(), test.count(), stageSeconds);
        if (seeds.size() > 1) {
            SeedSummary summary = SeedSummary.of(seeds);
            summary.write(runDir.resolve(SEEDS_CSV), out);
            summary.plot(runDir.resolve(SEEDS_PNG));
        }
        return first.rows();
    }

    /** What one seed's supernets, searches and allocations give; seed 0's is the one ablation.csv reports. */
    record SeedResult(List<Row> rows, List<ParetoFront.Point> uniformGrid, List<ParetoFront.Point> uniformMatched,
                      List<Difference> differences, Map<String, Double> stageSeconds) {
    }

    /**
     * One seed's rows and paired differences: its searched and uniform subnets (from
     * {@link #searched}) against each other and against the allocations, which need no seed.
     */
    private SeedResult runSeed(AblationConfig cfg, String suffix, List<Variant> variants, String filtered,
                               Map<Row, boolean[]> allocated, VisionTransformer dense, ImageSource test, int ebs) {
        SearchedSeed seed = searched(cfg, suffix, variants, filtered, dense, test, ebs);
        List<Row> rows = new ArrayList<>();
        // each row's per-image test outcomes, for the paired differences between rows
        Map<Row, boolean[]> outcomes = new LinkedHashMap<>();
        for (SearchedSeed.Searched s : seed.searched()) {
            rows.add(s.row());
            outcomes.put(s.row(), s.correct());
        }
        List<Difference> differences = new ArrayList<>();
        for (SearchedSeed.Matched m : seed.uniformMatched()) {
            Row r = rows.stream().filter(x -> x.variant().equals("lrat") && x.target() == m.target()).findFirst()
                    .orElseThrow();
            differences.add(Difference.of(r.target(), "lrat", "uniform-matched",
                    Accuracy.paired(outcomes.get(r), m.correct())));
            for (Row other : rows) {
                if (other.target() == r.target() && !other.variant().equals("lrat")) {
                    differences.add(Difference.of(r.target(), other.variant(), "lrat",
                            Accuracy.paired(outcomes.get(other), outcomes.get(r))));
                }
            }
        }
        outcomes.putAll(allocated);
        for (Row a : allocated.keySet()) {
            rows.stream().filter(r -> r.variant().equals("lrat") && r.target() == a.target()).findFirst()
                    .ifPresent(lratRow -> differences.add(Difference.of(a.target(), a.variant(), "lrat",
                            Accuracy.paired(outcomes.get(a), outcomes.get(lratRow)))));
        }
        rows.addAll(allocated.keySet());
        return new SeedResult(rows, seed.uniformGrid(),
                seed.uniformMatched().stream().map(SearchedSeed.Matched::point).toList(), differences,
                seed.stageSeconds());
    }

    /**
     * The supernets, searches and uniform subnets of one seed, stage names ending in
     * {@code suffix}; read from the seed's {@link SearchedSeed} file when an earlier run finished
     * it, so that its supernets are neither loaded nor needed.
     */
    private SearchedSeed searched(AblationConfig cfg, String suffix, List<Variant> variants, String filtered,
                                  VisionTransformer dense, ImageSource test, int ebs) {
        Path file = SearchedSeed.file(runDir, suffix);
        var saved = SearchedSeed.read(file, test.count());
        if (saved.isPresent()) {
            out.println(file.getFileName() + ": done (its supernets and searches are not needed again)");
            return saved.get();
        }
        CompressConfig c = cfg.asCompress();
        Map<String, Path> nets = new LinkedHashMap<>();
        List<String> stageNames = new ArrayList<>();
        for (Variant v : variants) {
            String name = "supernet-" + v.name() + suffix;
            stageNames.add(name);
            nets.put(v.name(), stages.supernet(c.supernetFor(v.method(), v.filtered() ? filtered : null), name));
        }
        long denseMacs = CostModel.denseMacs(dense.config());
        List<SearchedSeed.Searched> searched = new ArrayList<>();
        for (Variant variant : variants) {
            String v = variant.name();
            Supernet net = Supernet.load(nets.get(v), backend);
            long[] range = EvolutionarySearch.flopsRange(net.space());
            for (double target : cfg.targets()) {
                if (outOfReach(range, target, cfg.window(), denseMacs)) {
                    out.printf(Locale.ROOT, "%s: no architecture in the window of target %.2f (space spans %.1f%% to "
                            + "%.1f%% of dense); skipped%n", v, target, 100.0 * range[0] / denseMacs,
                            100.0 * range[1] / denseMacs);
                    continue;
                }
                SearchConfig s = c.searchFor(nets.get(v).toString()).within(target - cfg.window(), target);
                String name = String.format(Locale.ROOT, "search-%s-%02d%s", v, Math.round(100 * target), suffix);
                stageNames.add(name);
                EvolutionarySearch.Evaluated best = stages.search(s, name).best();
                Evaluator.Outcomes o = testOutcomes(net, net.space().ranks(best.candidate()), test, ebs);
                searched.add(new SearchedSeed.Searched(new Row(v, target, best.arch(), best.flops(), best.top1(),
                        100 * o.result().top1()), o.correct()));
            }
        }
        Supernet lrat = Supernet.load(nets.get("lrat"), backend);
        CostModel cost = new CostModel(lrat.space());
        List<ParetoFront.Point> uniformGrid = new ArrayList<>();
        double[] ratios = lrat.space().ratios();
        for (int i = 0; i < ratios.length; i++) {
            Candidate u = Candidate.uniform(lrat.space().depth(), lrat.space().targets().size(), i);
            uniformGrid.add(new ParetoFront.Point("uniform " + ratios[i], cost.macs(u),
                    100 * testOutcomes(lrat, lrat.space().ranks(u), test, ebs).result().top1()));
        }
        List<SearchedSeed.Matched> matched = new ArrayList<>();
        for (SearchedSeed.Searched s : searched) {
            Row r = s.row();
            if (r.variant().equals("lrat")) {
                Map<String, Integer> u = cost.uniformAtMost(r.flops());
                Evaluator.Outcomes o = testOutcomes(lrat, u, test, ebs);
                matched.add(new SearchedSeed.Matched(r.target(), new ParetoFront.Point("uniform at " + r.target(),
                        cost.macs(u), 100 * o.result().top1()), o.correct()));
            }
        }
        Map<String, Double> seconds = new LinkedHashMap<>();
        for (String name : stageNames) {
            Double t = stages.seconds().get(name);
            if (t != null) {
                seconds.put(name, t);
            }
        }
        SearchedSeed seed = new SearchedSeed(searched, uniformGrid, matched, seconds);
        seed.write(file, test.count());
        return seed;
    }

    /**
     * The rank allocations of the dense model at every target, each scored on the test set, and
     * with {@code allocation_finetune_epochs} > 0 each also after that fine-tune (variant
     * "METHOD+ft"); row to per-image test outcomes, in order. A row's arch is the threshold found;
     * its validation top-1 is the fine-tune's last (NaN without one).
     */
    private Map<Row, boolean[]> allocations(List<AllocationMethod> methods, ModelSource.LoadedModel denseFile,
                                            String prefix, ImageSource test, int ebs) {
        Map<Row, boolean[]> rows = new LinkedHashMap<>();
        if (methods.isEmpty()) {
            return rows;
        }
        VisionTransformer dense = denseFile.model();
        ModelInput input = ModelInput.of(denseFile, ModelPreprocessing.Overrides.none(), s -> { });
        SearchSpace space = SearchSpace.defaults(dense.config(), false);
        Map<String, double[]> covariances = AllocationBaselines.calibrate(methods, dense, input, config.data(),
                config.calibrationImages(), space.modulePaths(), out);
        long denseMacs = CostModel.denseMacs(dense.config());
        for (AllocationMethod m : methods) {
            for (double target : config.targets()) {
                Allocator.Allocation a;
                try {
                    a = Allocator.allocate(m, dense, space, Math.round(target * denseMacs), covariances);
                } catch (IllegalArgumentException e) {
                    out.printf(Locale.ROOT, "%s at target %.2f: %s; skipped%n", m.label(), target, e.getMessage());
                    continue;
                }
                String arch = String.format(Locale.ROOT, "%s=%.6f", m.threshold(), a.threshold());
                VisionTransformer model = a.export(dense, input, space);
                Evaluator.Outcomes o = Evaluator.outcomes(model, input, test, ebs);
                String label = prefix + m.label();
                rows.put(new Row(label, target, arch, a.macs(), Double.NaN, 100 * o.result().top1()), o.correct());
                if (config.allocationFinetuneEpochs() > 0) {
                    String name = String.format(Locale.ROOT, "finetune-%s-%02d", label, Math.round(100 * target));
                    double val = 100 * fineTuned(model, input, runDir.resolve(name));
                    Evaluator.Outcomes f = Evaluator.outcomes(model, input, test, ebs);
                    rows.put(new Row(label + "+ft", target, arch, a.macs(), val, 100 * f.result().top1()),
                            f.correct());
                }
            }
        }
        return rows;
    }

    /**
     * {@code model} fine-tuned in place for {@code allocation_finetune_epochs} epochs in
     * {@code dir}, or loaded from there when an earlier run finished it; its validation top-1.
     */
    private double fineTuned(VisionTransformer model, ModelInput input, Path dir) {
        Path done = dir.resolve(FINETUNED_MODEL);
        if (Files.exists(done)) {
            SafeTensors file = SafeTensors.open(done);
            ModelIO.loadWeights(model, file);
            return Double.parseDouble(file.metadata().getOrDefault(VAL_TOP1_KEY, "NaN"));
        }
        boolean resume = Files.exists(dir.resolve(TrainingLoop.CHECKPOINT));
        FineTuner.Result r = FineTuner.fineTune(model, input, config.data(),
                LoopSettings.fineTuning(config.allocationFinetuneEpochs()), dir, resume, out);
        Map<String, String> meta = new LinkedHashMap<>(input.metadata());
        meta.put(VAL_TOP1_KEY, Double.toString(r.valTop1()));
        ModelIO.save(model, done, meta);
        return r.valTop1();
    }

    /**
     * Row {@code a}'s test top-1 minus row {@code b}'s at one target, paired over the same test
     * images: the error bar every comparison of the ablation is read against.
     */
    public record Difference(double target, String a, String b, double points, double standardError,
                             double ci95Low, double ci95High, boolean significant) {
        static Difference of(double target, String a, String b, Accuracy.Difference d) {
            return new Difference(target, a, b, d.points(), d.standardError(), d.low(), d.high(), d.significant());
        }

        String describe() {
            return new Accuracy.Difference(points, standardError).describe()
                    + (significant ? ", larger than the noise" : ", within the noise");
        }
    }

    /** Per-image test outcomes of the subnet of {@code net} at {@code ranks}, exported as a standalone model. */
    private static Evaluator.Outcomes testOutcomes(Supernet net, Map<String, Integer> ranks, ImageSource test,
                                                   int ebs) {
        VisionTransformer m = SubnetExport.export(net, ranks);
        return Evaluator.outcomes(m, net.input(), test, ebs);
    }

    /**
     * {@code lorita_model}, loaded; it must have the dense backbone's architecture, so that the
     * targets mean the same FLOPs.
     */
    private ModelSource.LoadedModel loritaBackbone(VisionTransformer dense) {
        ModelSource.LoadedModel lorita = ModelSource.open(config.loritaModel(), backend, OptionalInt.empty());
        if (!lorita.model().config().equals(dense.config())) {
            throw new IllegalArgumentException("lorita_model " + config.loritaModel() + " is a "
                    + lorita.model().config() + ", not the dense backbone's " + dense.config());
        }
        if (lorita.metadata().get(Lorita.METADATA_KEY) == null) {
            out.println("note: lorita_model " + config.loritaModel() + " has no " + Lorita.METADATA_KEY
                    + " in its metadata (not written by flora pretrain --lorita); its rows are named lorita- all the "
                    + "same");
        }
        return lorita;
    }

    /** The ablation's supernets named in {@code names}, in {@link #VARIANTS}' order. */
    static List<Variant> variants(List<String> names) {
        return VARIANTS.stream().filter(v -> names.contains(v.name())).toList();
    }

    private void write(List<Variant> variants, List<Row> rows, List<ParetoFront.Point> uniformGrid,
                       List<ParetoFront.Point> uniformMatched, long denseMacs, double denseTest,
                       List<Difference> differences, int testImages, Map<String, Double> stageSeconds) {
        StringBuilder csv = new StringBuilder("variant,target,arch,flops,flops_pct,val_top1,test_top1,test_top1_se\n");
        for (Row r : rows) {
            csv.append(String.format(Locale.ROOT, "%s,%.2f,%s,%d,%.2f,%s,%.3f,%.3f%n", r.variant(), r.target(),
                    r.arch(), r.flops(), 100.0 * r.flops() / denseMacs,
                    Double.isNaN(r.valTop1()) ? "" : String.format(Locale.ROOT, "%.3f", r.valTop1()), r.testTop1(),
                    Accuracy.standardErrorPoints(r.testTop1(), testImages)));
        }
        for (ParetoFront.Point p : uniformGrid) {
            csv.append(String.format(Locale.ROOT, "uniform-grid,,%s,%d,%.2f,,%.3f,%.3f%n", p.label().replace(' ', '='),
                    p.flops(), 100.0 * p.flops() / denseMacs, p.top1(), Accuracy.standardErrorPoints(p.top1(), testImages)));
        }
        for (ParetoFront.Point p : uniformMatched) {
            csv.append(String.format(Locale.ROOT, "uniform-matched,%s,uniform,%d,%.2f,,%.3f,%.3f%n",
                    p.label().replace("uniform at ", ""), p.flops(), 100.0 * p.flops() / denseMacs, p.top1(),
                    Accuracy.standardErrorPoints(p.top1(), testImages)));
        }
        csv.append(String.format(Locale.ROOT, "dense,,dense,%d,100.00,,%.3f,%.3f%n", denseMacs, denseTest,
                Accuracy.standardErrorPoints(denseTest, testImages)));
        AtomicFiles.writeString(runDir.resolve("ablation.csv"), csv.toString());

        ParetoPlot fronts = new ParetoPlot("Searched subnets per supernet (test top-1)");
        for (Variant v : variants) {
            fronts.line(v.title(), rows.stream()
                    .filter(r -> r.variant().equals(v.name()))
                    .map(r -> new ParetoFront.Point(r.arch(), r.flops(), r.testTop1())).toList());
        }
        rows.stream().map(Row::variant).filter(v -> VARIANTS.stream().noneMatch(x -> x.name().equals(v))).distinct()
                .forEach(m -> fronts.line(m + " (allocation, no supernet)", rows.stream()
                        .filter(r -> r.variant().equals(m))
                        .map(r -> new ParetoFront.Point(r.arch(), r.flops(), r.testTop1())).toList()));
        fronts.points("dense", List.of(new ParetoFront.Point("dense", denseMacs, denseTest)));
        fronts.write(runDir.resolve("fronts.png"));
        ParetoPlot uniform = new ParetoPlot("Uniform vs searched ranks, LRAT supernet (test top-1)");
        uniform.line("searched (LRAT)", rows.stream().filter(r -> r.variant().equals("lrat"))
                .map(r -> new ParetoFront.Point(r.arch(), r.flops(), r.testTop1())).toList());
        uniform.line("uniform, grid ratios", uniformGrid);
        uniform.points("uniform at the searched FLOPs", uniformMatched);
        uniform.points("dense", List.of(new ParetoFront.Point("dense", denseMacs, denseTest)));
        uniform.write(runDir.resolve("uniform_vs_searched.png"));
        try {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("rows", rows);
            j.put("uniform_grid", uniformGrid);
            j.put("uniform_matched", uniformMatched);
            j.put("paired_differences", differences);
            j.put("dense", Map.of("flops", denseMacs, "test_top1", denseTest));
            j.put("stage_seconds", stageSeconds);
            AtomicFiles.writeString(runDir.resolve("ablation.json"), new ObjectMapper().writerWithDefaultPrettyPrinter()
                    .writeValueAsString(j) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.println("ablation written to " + runDir.resolve("ablation.csv"));
    }
}
