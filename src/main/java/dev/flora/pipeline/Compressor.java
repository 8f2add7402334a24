package dev.flora.pipeline;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flora.allocation.AllocationBaselines;
import dev.flora.allocation.AllocationMethod;
import dev.flora.allocation.Allocator;
import dev.flora.config.CompressConfig;
import dev.flora.config.Configs;
import dev.flora.config.Method;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.models.ModelInput;
import dev.flora.data.Split;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.cuda.Devices;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.latency.LatencyPredictor;
import dev.flora.models.ModelSource;
import dev.flora.report.Accuracy;
import dev.flora.report.ParetoFront;
import dev.flora.report.ParetoPlot;
import dev.flora.search.EvolutionarySearch;
import dev.flora.search.SearchBound;
import dev.flora.space.Candidate;
import dev.flora.space.CostModel;
import dev.flora.space.FactorizationRule;
import dev.flora.space.FlopsBounds;
import dev.flora.space.SearchSpace;
import dev.flora.stage.RunDirectory;
import dev.flora.supernet.SubnetExport;
import dev.flora.supernet.Supernet;
import dev.flora.supernet.SupernetTrainer;
import dev.flora.train.Evaluator;
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
 * Runs the FLORA pipeline into one run directory, each stage in its own folder and each
 * resumable: a stage whose output exists is skipped, one with a checkpoint continues from it.
 * Ends with {@code flora.safetensors} (the searched subnet), {@code uniform.safetensors} (the
 * uniform-rank subnet of the same supernet at matched FLOPs), {@code pareto.csv},
 * {@code pareto.png}, {@code results.json} and {@code summary.md}; with {@code allocations}, also
 * each named rank allocation of the dense model (no supernet) at the searched subnet's FLOPs,
 * {@code allocation-METHOD.safetensors}, scored beside FLORA.
 */
public final class Compressor {
    public static final String CONFIG = "config.yaml";
    public static final String FLORA_MODEL = "flora.safetensors";
    public static final String UNIFORM_MODEL = "uniform.safetensors";
    public static final String PARETO_CSV = "pareto.csv";
    public static final String PARETO_PNG = "pareto.png";
    public static final String RESULTS = "results.json";
    public static final String SUMMARY = "summary.md";

    private final CompressConfig config;
    private final Path runDir;
    private final Backend backend;
    private final PrintStream out;
    private final PipelineStages stages;

    public Compressor(CompressConfig config, Path runDir, Backend backend, PrintStream out) {
        this.config = config;
        this.runDir = runDir;
        this.backend = backend;
        this.out = out;
        this.stages = new PipelineStages(runDir, backend, out);
    }

    /**
     * One model's figures in the final comparison; {@code testCorrect}: per test image, whether it
     * was right (for paired differences).
     */
    public record Scored(String name, String file, long flops, long params, double valTop1, double testTop1,
                         double testLoss, @JsonIgnore boolean[] testCorrect) {
        /** This model's test top-1 minus {@code other}'s, image by image, with its standard error. */
        public Accuracy.Difference versus(Scored other) {
            return Accuracy.paired(testCorrect, other.testCorrect);
        }
    }

    /** What the pipeline produced; {@code allocations}: the supernet-free baselines, in the order named. */
    public record Outcome(Scored dense, Scored flora, Scored uniform, List<Scored> allocations, String arch,
                          Path summary) {
    }

    /** The file of one allocation baseline in the run directory. */
    public static String allocationModel(AllocationMethod method) {
        return "allocation-" + method.label() + ".safetensors";
    }

    /** The latency table of the search section, if any, as a path. */
    private Path latencyTable() {
        return config.search().latencyTable() == null ? null : Path.of(config.search().latencyTable());
    }

    public Outcome run() {
        checkBoundsReachable();
        RunDirectory.claim(runDir, CONFIG, Configs.toYaml(config),
                saved -> Configs.normalized(saved, CompressConfig.class, CompressConfig.defaults(), CONFIG), out);
        String filtered = config.runFilter() ? stages.filter(config.filter(), "filter").toString() : null;
        Path lratNet = stages.supernet(config.supernetFor(Method.LRAT, filtered), "supernet-lrat");
        EvolutionarySearch.State lratSearch = stages.search(config.searchFor(lratNet.toString()), "search-lrat");
        Path sposNet = null;
        EvolutionarySearch.State sposSearch = null;
        if (config.compareSpos()) {
            sposNet = stages.supernet(config.supernetFor(Method.SPOS, filtered), "supernet-spos");
            sposSearch = stages.search(config.searchFor(sposNet.toString()), "search-spos");
        }

        long t0 = System.nanoTime();
        out.println("export and evaluation");
        Supernet lrat = Supernet.load(lratNet, backend);
        SearchSpace space = lrat.space();
        CostModel cost = new CostModel(space);
        Candidate best = lratSearch.best().candidate();
        Map<String, Integer> floraRanks = space.ranks(best);
        LatencyPredictor predictor = latencyTable() == null ? null
                : LatencyPredictor.open(latencyTable(), space, backend);
        boolean byLatency = config.search().latencyMs() != null;
        // the baseline matches what the search was bounded by: predicted latency, or FLOPs
        Map<String, Integer> uniformRanks = byLatency ? space.uniformAtMost(predictor::millis, predictor.millis(floraRanks))
                : cost.uniformAtMost(cost.macs(best));
        FactorizationRule rule = predictor == null ? FactorizationRule.FEWER_FLOPS : predictor;
        Path floraPath = runDir.resolve(FLORA_MODEL);
        Path uniformPath = runDir.resolve(UNIFORM_MODEL);
        export(lrat, floraRanks, floraPath, "flora", best.encode(), rule);
        export(lrat, uniformRanks, uniformPath, "uniform", "uniform ratio " + uniformRatio(space, uniformRanks), rule);

        ImageSource val = Datasets.load(config.data(), Split.VAL);
        ImageSource test = Datasets.load(config.data(), Split.TEST);
        int ebs = config.supernet().loop().evalBatchSize();
        // the subnets and the dense model share the backbone's input, which the supernet recorded
        ModelInput input = lrat.input();
        VisionTransformer denseModel = ModelSource.load(config.model(), backend, OptionalInt.empty());
        VisionTransformer floraModel = ModelIO.load(floraPath, backend, OptionalInt.empty());
        VisionTransformer uniformModel = ModelIO.load(uniformPath, backend, OptionalInt.empty());
        Scored dense = score("dense", config.model(), denseModel, input, val, test, ebs);
        Scored flora = score("FLORA (searched, LRAT supernet)", floraPath.toString(), floraModel, input, val, test, ebs);
        Scored uniform = score("uniform rank at matched " + (byLatency ? "latency" : "FLOPs"), uniformPath.toString(),
                uniformModel, input, val, test, ebs);
        List<Scored> allocations = allocationBaselines(denseModel, input, cost.macs(best), val, test, ebs);
        LatencyReport latency = predictor == null ? null : measureLatency(predictor, floraRanks, uniformRanks,
                floraPath, uniformPath, List.of(dense.name(), flora.name(), uniform.name()));

        Map<String, List<ParetoFront.Point>> grids = new LinkedHashMap<>();
        grids.put("lrat", uniformGrid(lrat, val, ebs));
        if (sposNet != null) {
            grids.put("spos", uniformGrid(Supernet.load(sposNet, backend), val, ebs));
        }
        stages.seconds().put("export and evaluation", (System.nanoTime() - t0) / 1e9);

        Map<String, EvolutionarySearch.State> searches = new LinkedHashMap<>();
        searches.put("lrat", lratSearch);
        if (sposSearch != null) {
            searches.put("spos", sposSearch);
        }
        writePareto(searches, grids, dense);
        writeResults(dense, flora, uniform, allocations, best, floraRanks, uniformRanks, searches, grids, latency);
        Path summary = runDir.resolve(SUMMARY);
        AtomicFiles.writeString(summary, SummaryReport.markdown(config, space, dense, flora, uniform, allocations, best,
                floraRanks, uniformRanks, searches, grids, stages.seconds())
                + (latency == null ? "" : "\n" + latency.markdown()));
        StringBuilder versusAllocations = new StringBuilder();
        for (Scored a : allocations) {
            versusAllocations.append("; FLORA vs ").append(a.name()).append(": ").append(SummaryReport.versus(flora, a));
        }
        out.printf(Locale.ROOT, "FLORA %.2f%% test top-1 at %.1f%% of the dense FLOPs (dense %.2f%%, uniform %.2f%%); "
                        + "FLORA vs %s: %s%s; report at %s%n", flora.testTop1(), 100.0 * flora.flops() / dense.flops(),
                dense.testTop1(), uniform.testTop1(), uniform.name(), SummaryReport.versus(flora, uniform),
                versusAllocations, summary);
        return new Outcome(dense, flora, uniform, allocations, best.encode(), summary);
    }

    /**
     * Fails now, not after the supernet has trained, on a latency table from another machine or
     * backend, one that lacks a module or rank of the space, or a budget no subnet of it meets.
     */
    /**
     * The dense model, FLORA's and the uniform subnet timed together on the backend inference runs
     * on here (where the table was timed: the CPU's inference backend, not the one this run trains on).
     */
    private LatencyReport measureLatency(LatencyPredictor predictor, Map<String, Integer> floraRanks,
                                         Map<String, Integer> uniformRanks, Path floraPath, Path uniformPath,
                                         List<String> names) {
        Backend timing = Devices.inferenceBackendLike(backend);
        try {
            return LatencyReport.measure(predictor, latencyTable().toString(), config.search().latencyMs(), List.of(
                    new LatencyReport.Subject(names.get(0), Map.of(),
                            ModelSource.load(config.model(), timing, OptionalInt.empty())),
                    new LatencyReport.Subject(names.get(1), floraRanks, ModelIO.load(floraPath, timing,
                            OptionalInt.empty())),
                    new LatencyReport.Subject(names.get(2), uniformRanks, ModelIO.load(uniformPath, timing,
                            OptionalInt.empty()))), out);
        } finally {
            if (timing != backend) {
                timing.close();
            }
        }
    }

    /**
     * Fails before anything is written (and not after hours of filtering and supernet training)
     * where the search's FLOPs bounds or latency budget admit no architecture of the unfiltered
     * space, a filtered one being smaller still; and checks that a latency table fits the space.
     */
    private void checkBoundsReachable() {
        ViTConfig arch = ModelSource.load(config.model(), backend, OptionalInt.empty()).config();
        SearchSpace space = SupernetTrainer.space(config.supernetFor(Method.LRAT, null), arch);
        SearchBound.flops(space, FlopsBounds.parse(config.search().minFlops(), config.search().maxFlops(),
                CostModel.denseMacs(arch))).checkReachable(space);
        if (latencyTable() == null) {
            return;
        }
        LatencyPredictor p = LatencyPredictor.open(latencyTable(), space, backend);
        if (config.search().latencyMs() != null) {
            SearchBound.latency(p, config.search().latencyMs(), latencyTable().toString()).checkReachable(space);
        }
    }

    /**
     * The {@code allocations} of the dense model at {@code budget} FLOPs (the searched subnet's),
     * each exported to {@link #allocationModel} (a rerun reads the file back instead), then scored.
     * They allocate over every module of the default space, as {@code flora allocate} does, and
     * are not fine-tuned, like the searched subnet.
     */
    private List<Scored> allocationBaselines(VisionTransformer dense, ModelInput input, long budget, ImageSource val,
                                             ImageSource test, int ebs) {
        List<AllocationMethod> methods = AllocationBaselines.parse(config.allocations(), "allocations");
        SearchSpace space = SearchSpace.defaults(dense.config(), false);
        Map<String, double[]> covariances = null;
        List<Scored> scored = new ArrayList<>();
        for (AllocationMethod m : methods) {
            Path file = runDir.resolve(allocationModel(m));
            if (!Files.exists(file)) {
                if (covariances == null) {
                    covariances = AllocationBaselines.calibrate(methods, dense, input, config.data(),
                            config.calibrationImages(), space.modulePaths(), out);
                }
                Allocator.Allocation a;
                try {
                    a = Allocator.allocate(m, dense, space, budget, covariances);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("allocations: " + m.label() + " at the searched subnet's "
                            + budget + " FLOPs: " + e.getMessage(), e);
                }
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("flora.kind", m.label());
                meta.put("flora.arch", String.format(Locale.ROOT, "%s %s=%.6f", m.label(), m.threshold(),
                        a.threshold()));
                meta.put("flora.source_model", config.model());
                meta.putAll(input.metadata());
                ModelIO.save(a.export(dense, input, space), file, meta);
            }
            scored.add(score(m.label() + " allocation at matched FLOPs", file.toString(),
                    ModelIO.load(file, backend, OptionalInt.empty()), input, val, test, ebs));
        }
        return scored;
    }

    private void export(Supernet net, Map<String, Integer> ranks, Path path, String kind, String arch,
                        FactorizationRule rule) {
        VisionTransformer model = SubnetExport.export(net, ranks, rule);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("flora.kind", kind);
        meta.put("flora.arch", arch);
        meta.put("flora.source_model", config.model());
        meta.putAll(net.input().metadata());
        ModelIO.save(model, path, meta);
    }

    private static String uniformRatio(SearchSpace space, Map<String, Integer> ranks) {
        var e = ranks.entrySet().iterator().next();
        int t = space.targetOf(e.getKey());
        return String.format(Locale.ROOT, "%.4f", e.getValue() / (double) Math.min(space.inFeatures(t),
                space.outFeatures(t)));
    }

    static Scored score(String name, String file, VisionTransformer m, ModelInput input, ImageSource val,
                        ImageSource test, int ebs) {
        Evaluator.Result v = Evaluator.evaluate(m, input, val, ebs);
        Evaluator.Outcomes t = Evaluator.outcomes(m, input, test, ebs);
        return new Scored(name, file, m.macsPerImage(), m.parameterCount(), 100 * v.top1(), 100 * t.result().top1(),
                t.result().loss(), t.correct());
    }

    /** Validation top-1 of the supernet's uniform subnets on its ratio grid. */
    static List<ParetoFront.Point> uniformGrid(Supernet net, ImageSource val, int ebs) {
        List<ParetoFront.Point> pts = new ArrayList<>();
        CostModel cost = new CostModel(net.space());
        double[] ratios = net.space().ratios();
        for (int i = 0; i < ratios.length; i++) {
            Candidate c = Candidate.uniform(net.space().depth(), net.space().targets().size(), i);
            if (!net.space().allows(c)) {
                continue;
            }
            net.apply(c);
            pts.add(new ParetoFront.Point("uniform " + ratios[i], cost.macs(c),
                    100 * Evaluator.evaluate(net.model(), net.input(), val, ebs).top1()));
        }
        return pts;
    }

    private void writePareto(Map<String, EvolutionarySearch.State> searches, Map<String, List<ParetoFront.Point>> grids,
                             Scored dense) {
        StringBuilder csv = new StringBuilder("supernet,kind,arch,flops,val_top1,on_front\n");
        ParetoPlot plot = new ParetoPlot("FLORA on " + config.data() + ": validation top-1 vs FLOPs");
        for (var e : searches.entrySet()) {
            List<ParetoFront.Point> pts = points(e.getValue());
            List<ParetoFront.Point> front = ParetoFront.of(pts);
            for (ParetoFront.Point p : pts) {
                csv.append(String.format(Locale.ROOT, "%s,searched,%s,%d,%.4f,%b%n", e.getKey(), p.label(), p.flops(),
                        p.top1(), front.contains(p)));
            }
            plot.points(e.getKey().toUpperCase(Locale.ROOT) + " searched", pts);
            plot.line(e.getKey().toUpperCase(Locale.ROOT) + " front", front);
        }
        for (var e : grids.entrySet()) {
            for (ParetoFront.Point p : e.getValue()) {
                csv.append(String.format(Locale.ROOT, "%s,uniform,%s,%d,%.4f,false%n", e.getKey(), p.label(), p.flops(),
                        p.top1()));
            }
            plot.line(e.getKey().toUpperCase(Locale.ROOT) + " uniform ranks", e.getValue());
        }
        csv.append(String.format(Locale.ROOT, "dense,dense,dense,%d,%.4f,false%n", dense.flops(), dense.valTop1()));
        plot.points("dense", List.of(new ParetoFront.Point("dense", dense.flops(), dense.valTop1())));
        AtomicFiles.writeString(runDir.resolve(PARETO_CSV), csv.toString());
        plot.write(runDir.resolve(PARETO_PNG));
    }

    static List<ParetoFront.Point> points(EvolutionarySearch.State s) {
        return s.evaluated().stream().map(e -> new ParetoFront.Point(e.arch(), e.flops(), e.top1())).toList();
    }

    private static void putDifference(ObjectNode v, Accuracy.Difference d) {
        v.put("points", d.points());
        v.put("standard_error", d.standardError());
        v.put("ci95_low", d.low());
        v.put("ci95_high", d.high());
    }

    private void writeResults(Scored dense, Scored flora, Scored uniform, List<Scored> allocations, Candidate best,
                              Map<String, Integer> fr,
                              Map<String, Integer> ur, Map<String, EvolutionarySearch.State> searches,
                              Map<String, List<ParetoFront.Point>> grids, LatencyReport latency) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        ArrayNode models = root.putArray("models");
        for (Scored s : List.of(dense, flora, uniform)) {
            models.add(json.valueToTree(s));
        }
        putDifference(root.putObject("flora_vs_dense"), flora.versus(dense));
        putDifference(root.putObject("flora_vs_uniform"), flora.versus(uniform));
        ArrayNode baselines = root.putArray("allocations");
        ObjectNode versusBaselines = root.putObject("flora_vs_allocations");
        for (Scored a : allocations) {
            baselines.add(json.valueToTree(a));
            putDifference(versusBaselines.putObject(a.name()), flora.versus(a));
        }
        root.put("flora_arch", best.encode());
        root.set("flora_ranks", json.valueToTree(fr));
        root.set("uniform_ranks", json.valueToTree(ur));
        ObjectNode fronts = root.putObject("best_val_top1_at_half_flops");
        for (var e : searches.entrySet()) {
            fronts.put(e.getKey(), ParetoFront.bestAtMost(points(e.getValue()), dense.flops() / 2));
        }
        if (latency != null) {
            root.set("latency", json.valueToTree(latency));
        }
        root.set("stage_seconds", json.valueToTree(stages.seconds()));
        try {
            AtomicFiles.writeString(runDir.resolve(RESULTS), json.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(root) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
