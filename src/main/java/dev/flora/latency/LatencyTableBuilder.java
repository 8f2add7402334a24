package dev.flora.latency;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.LinearSpec;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import dev.flora.space.Candidate;
import dev.flora.space.FactorizationRule;
import dev.flora.space.SearchSpace;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Measures a {@link LatencyTable} on this machine: after a warm-up, every target module of the
 * space, dense and at every rank of the grid, at the rows it sees in the forward at the serving
 * batch (blocks 0..depth−2 and the last block's qkv: batch × tokens; the last block's proj and
 * MLP: the class token rows alone), the parts of the rest of the model, the dense model and
 * random subnets end to end, all in one interleaved loop. Modules of the same shape and rows are
 * timed once and share the figures. The fixed overhead is calibrated on the dense model and a
 * few of the subnets; the others check the predictor. Subnets are built with random weights
 * (time does not depend on them), factorized where a first timing of the modules found that
 * faster, as the export under the table stores them.
 */
public final class LatencyTableBuilder {
    private final SearchSpace space;
    private final VisionTransformer dense;
    private final Backend backend;
    private final String model;
    private final int batch;
    private final LatencyTable.Timing timing;
    private final LatencyMeter moduleMeter;
    private final LatencyMeter modelMeter;
    private final PrintStream out;
    /**
     * Memory of the models timed in one loop (weights and activations, roughly): all of
     * vit-fmnist's and DeiT-S's calibration and check subnets at batch 32, about 14 of DeiT-B's.
     */
    private static final long LOOP_BYTES = 8L << 30;

    /** @param dense the model whose space is timed (its weights do not matter) */
    public LatencyTableBuilder(SearchSpace space, VisionTransformer dense, String model, int batch,
                               LatencyTable.Timing timing, PrintStream out) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be positive, got " + batch);
        }
        if (!dense.config().equals(space.config())) {
            throw new IllegalArgumentException("the search space was made for " + space.config() + ", the model is "
                    + dense.config());
        }
        this.space = space;
        this.dense = dense;
        this.backend = dense.backend();
        this.model = model;
        this.batch = batch;
        this.timing = timing;
        this.moduleMeter = timing.modules(backend);
        this.modelMeter = timing.models(backend);
        this.out = out;
    }

    /**
     * Times the modules, the parts, the dense model, {@code calibration} random subnets that
     * calibrate the overhead and {@code check} further random subnets (another seed) that measure
     * the predictor's error, all in one loop, so that a phase in which the machine runs slower
     * weighs on every figure alike instead of on one kind of them.
     */
    public LatencyTable build(int calibration, int check, long seed) {
        Machine machine = Machine.of(backend);
        out.printf(Locale.ROOT, "latency table for %s at batch %d on %s; warming up for %.1f s%n", model, batch,
                machine, timing.warmupSeconds());
        modelMeter.warmUp(dense, batch, timing.warmupSeconds());
        Probes probes = new Probes();
        // a first timing of the modules alone decides, once, how the subnets are laid out: factorized
        // only where that was faster; the table keeps the decision, and the export follows it
        LatencyPredictor layout = predictor(machine, probes.table(moduleMeter.timeAll(probes.forwards()), false), 0);
        List<Candidate> subnets = new ArrayList<>();
        subnets.add(null); // the dense model
        subnets.addAll(space.randomCandidates(calibration, seed));
        subnets.addAll(space.randomCandidates(check, ~seed));
        List<Measurement> measured = timeTogether(probes, subnets, layout);
        Timed timed = laidOutAs(probes.table(measured.subList(0, probes.size()), true), layout);
        List<Measurement> models = measured.subList(probes.size(), measured.size());
        Measurement d = models.get(0);
        out.printf(Locale.ROOT, "dense model: %.3f ms (spread %.3f, %d samples)%n", d.ms(), d.spread(), d.samples());

        LatencyPredictor uncalibrated = predictor(machine, timed, 0);
        double[] residual = new double[calibration + 1];
        for (int i = 0; i <= calibration; i++) {
            residual[i] = models.get(i).ms() - predicted(uncalibrated, subnets.get(i));
        }
        double overhead = LatencyMeter.median(residual);
        out.printf(Locale.ROOT, "fixed overhead %.3f ms (median over the dense model and %d random subnets of measured "
                + "minus the modules and parts)%n", overhead, calibration);
        LatencyPredictor p = predictor(machine, timed, overhead);
        List<LatencyTable.Point> calibrated = new ArrayList<>();
        for (int i = 0; i <= calibration; i++) {
            Candidate c = subnets.get(i);
            calibrated.add(LatencyTable.Point.of(c == null ? "dense" : c.encode(), predicted(p, c), models.get(i)));
        }
        LatencyTable table = new LatencyTable(LatencyTable.FORMAT, machine, model, batch, space.config().tokens(),
                timing, d, overhead, timed.modules(), timed.parts(), calibrated, null);
        if (check == 0) {
            return table;
        }
        List<LatencyTable.Point> points = new ArrayList<>();
        for (int i = calibration + 1; i < subnets.size(); i++) {
            Candidate c = subnets.get(i);
            LatencyTable.Point pt = LatencyTable.Point.of(c.encode(), p.millis(c), models.get(i));
            points.add(pt);
            out.printf(Locale.ROOT, "check %d/%d: predicted %.3f ms, measured %.3f ms (spread %.3f), error %+.1f %%%n",
                    points.size(), check, pt.predictedMs(), pt.measuredMs(), pt.spread(), pt.errorPct());
        }
        LatencyTable.Check c = LatencyTable.Check.of(points);
        out.printf(Locale.ROOT, "predictor on %d random subnets at batch %d: median |error| %.2f %%, worst %.2f %%%n",
                check, batch, c.medianAbsErrorPct(), c.worstAbsErrorPct());
        return table.withCheck(c);
    }

    /** {@code timed} with, in every module, the ranks {@code layout} factorized the timed subnets at. */
    private static Timed laidOutAs(Timed timed, LatencyPredictor layout) {
        Map<String, LatencyTable.Module> modules = new LinkedHashMap<>();
        timed.modules().forEach((path, m) -> {
            java.util.SortedSet<Integer> factorized = new java.util.TreeSet<>();
            for (int r : m.ranks().keySet()) {
                if (layout.factorize(path, m.in(), m.out(), r)) {
                    factorized.add(r);
                }
            }
            modules.put(path, m.withFactorized(factorized));
        });
        return new Timed(modules, timed.parts());
    }

    private LatencyPredictor predictor(Machine machine, Timed timed, double overhead) {
        return new LatencyPredictor(new LatencyTable(LatencyTable.FORMAT, machine, model, batch,
                space.config().tokens(), timing, new Measurement(1, 0, 1), overhead, timed.modules(), timed.parts(),
                List.of(), null), space, model);
    }

    /** {@code p}'s prediction for subnet {@code c}; null is the dense model. */
    private static double predicted(LatencyPredictor p, Candidate c) {
        return c == null ? p.millis(Map.of()) : p.millis(c);
    }

    /**
     * The probes' figures and then the end-to-end inference times of {@code subnets} (null: the
     * dense model) at the serving batch, laid out under {@code rule}: one interleaved loop over the
     * probes and as many models as {@link #LOOP_BYTES} of memory holds, then loops over the rest.
     */
    private List<Measurement> timeTogether(Probes probes, List<Candidate> subnets, FactorizationRule rule) {
        int perLoop = (int) Math.max(1, Math.min(subnets.size(), LOOP_BYTES / modelBytes()));
        List<Measurement> measured = new ArrayList<>();
        for (int i = 0; i < subnets.size(); i += perLoop) {
            List<LatencyMeter.Call> calls = new ArrayList<>();
            if (i == 0) {
                probes.forwards().forEach(f -> calls.add(new LatencyMeter.Call(f, timing.moduleSeconds())));
            }
            for (Candidate c : subnets.subList(i, Math.min(subnets.size(), i + perLoop))) {
                calls.add(new LatencyMeter.Call(modelMeter.inference(c == null ? dense : build(c, rule), batch),
                        timing.modelSeconds()));
            }
            measured.addAll(moduleMeter.timeTogether(calls));
        }
        return measured;
    }

    /** About what one model timed at the serving batch holds: its weights and its largest activations. */
    private long modelBytes() {
        var c = space.config();
        long rows = (long) batch * c.tokens();
        long hidden = Math.round(c.embedDim() * c.mlpRatio());
        return 4 * (dense.parameterCount() + rows * (4L * c.embedDim() + 2 * hidden)
                + (long) batch * c.numHeads() * c.tokens() * c.tokens());
    }

    /** The target modules' times by path, and the rest of the model's parts by name. */
    private record Timed(Map<String, LatencyTable.Module> modules, Map<String, LatencyTable.Part> parts) {
    }

    /**
     * The forwards to time for the table: one probe per module shape and row count (dense, then
     * each rank), shared by the modules of that shape, then the parts of the model.
     */
    private final class Probes {
        private final Map<String, Probe> byShape = new LinkedHashMap<>();
        private final Map<String, Probe> byPath = new LinkedHashMap<>();
        private final Parts parts;

        Probes() {
            int[] lanes = VisionTransformer.laneImages(backend, batch);
            for (int b = 0; b < space.depth(); b++) {
                for (int t = 0; t < space.targets().size(); t++) {
                    String target = space.targets().get(t);
                    // the last block runs everything after its qkv on the class (and distillation) rows alone
                    boolean tail = b == space.depth() - 1 && !target.equals("attn.qkv");
                    int rowsPerImage = tail ? space.config().prefixTokens() : space.config().tokens();
                    boolean residual = target.equals("mlp.fc2") || target.equals("attn.proj");
                    int in = space.inFeatures(t);
                    int outF = space.outFeatures(t);
                    String key = in + "x" + outF + "@" + rowsPerImage + (residual ? "+skip" : "");
                    int tt = t;
                    byPath.put(space.modulePath(b, t), byShape.computeIfAbsent(key,
                            k -> new Probe(target, in, outF, rowsPerImage, residual, lanes, space.ranks(tt))));
                }
            }
            parts = new Parts(lanes);
        }

        List<Runnable> forwards() {
            List<Runnable> calls = new ArrayList<>();
            byShape.values().forEach(p -> calls.addAll(p.forwards));
            calls.addAll(parts.forwards.values());
            return calls;
        }

        int size() {
            return forwards().size();
        }

        /** The modules and parts from their {@code measured} forwards, in {@link #forwards}' order; printed if asked. */
        Timed table(List<Measurement> measured, boolean print) {
            int next = 0;
            Map<Probe, LatencyTable.Module> results = new HashMap<>();
            for (Probe p : byShape.values()) {
                results.put(p, p.module(measured.subList(next, next + p.forwards.size()), print));
                next += p.forwards.size();
            }
            Map<String, LatencyTable.Module> modules = new LinkedHashMap<>();
            byPath.forEach((path, p) -> modules.put(path, results.get(p)));
            return new Timed(modules, parts.table(measured.subList(next, measured.size()), modules, print));
        }
    }

    /**
     * The parts of the forward that no rank changes, run by dense copies of the model, one per
     * lane, as the model runs them: embedding, a block at every token, the last block's
     * class-token pass, the final norm and head (see {@link LatencyTable.Part}).
     */
    private final class Parts {
        private final Map<String, Runnable> forwards = new LinkedHashMap<>();

        Parts(int[] lanes) {
            var c = space.config();
            int n = lanes.length;
            int t = c.tokens();
            int depth = c.depth();
            VisionTransformer[] models = new VisionTransformer[n];
            Tensor[] images = new Tensor[n];
            Tensor[] tokens = new Tensor[n];
            Random rng = new Random(11);
            for (int i = 0; i < n; i++) {
                models[i] = new VisionTransformer(backend, c);
                ViTInitializer.initialize(models[i], 1);
                images[i] = LatencyMeter.random(backend, lanes[i] * c.imageSize(), rng, 1);
                tokens[i] = LatencyMeter.random(backend, lanes[i] * t * c.embedDim(), rng, 1);
            }
            forwards.put("embedding", () -> backend.runLanes(n, i -> models[i].forwardTo(images[i], lanes[i], 0)));
            if (depth > 1) {
                forwards.put("block", () -> backend.runLanes(n, i -> models[i].blocks().get(0)
                        .forward(tokens[i], lanes[i], t)));
            }
            forwards.put("last_block", () -> backend.runLanes(n, i -> models[i].blocks().get(depth - 1)
                    .forwardPrefixTokens(tokens[i], lanes[i], t, c.prefixTokens())));
            forwards.put("head", () -> backend.runLanes(n, i -> models[i].forwardFrom(tokens[i], lanes[i], depth)));
        }

        /** The parts' table entries from their {@code measured} times, printed as one line if asked. */
        Map<String, LatencyTable.Part> table(List<Measurement> measured, Map<String, LatencyTable.Module> modules,
                                             boolean print) {
            int depth = space.config().depth();
            Map<String, LatencyTable.Part> parts = new LinkedHashMap<>();
            StringBuilder line = new StringBuilder("rest of the model:");
            int i = 0;
            for (String name : forwards.keySet()) {
                int block = name.equals("block") ? 0 : depth - 1;
                double targets = name.endsWith("block") ? denseTargets(block, modules) : 0;
                LatencyTable.Part part = new LatencyTable.Part(name.equals("block") ? depth - 1 : 1, measured.get(i++),
                        targets);
                parts.put(name, part);
                line.append(String.format(Locale.ROOT, " %s %.3f ms%s", name, part.restMs(),
                        part.count() > 1 ? " × " + part.count() : ""));
            }
            if (print) {
                out.println(line.append(" (blocks: beyond their target modules)"));
            }
            return parts;
        }

        /** The dense times, in the table, of block {@code b}'s target modules. */
        private double denseTargets(int b, Map<String, LatencyTable.Module> modules) {
            double ms = 0;
            for (int t = 0; t < space.targets().size(); t++) {
                ms += modules.get(space.modulePath(b, t)).dense().ms();
            }
            return ms;
        }
    }

    /** One module shape at its rows: the dense forward, then one per rank. */
    private final class Probe {
        private final String target;
        private final int in;
        private final int outF;
        private final int rowsPerImage;
        private final int[] ranks;
        private final List<Runnable> forwards = new ArrayList<>();

        Probe(String target, int in, int outF, int rowsPerImage, boolean residual, int[] lanes, int[] ranks) {
            this.target = target;
            this.in = in;
            this.outF = outF;
            this.rowsPerImage = rowsPerImage;
            this.ranks = ranks.clone();
            int[] laneRows = new int[lanes.length];
            for (int i = 0; i < lanes.length; i++) {
                laneRows[i] = lanes[i] * rowsPerImage;
            }
            ModuleProbe probe = new ModuleProbe(backend, in, outF, laneRows, residual);
            forwards.add(probe.forward(new LinearSpec.Dense()));
            for (int r : ranks) {
                forwards.add(probe.forward(new LinearSpec.LowRank(r)));
            }
        }

        /** The module's table entry from its {@code measured} forwards (dense first), printed as one line if asked. */
        LatencyTable.Module module(List<Measurement> measured, boolean print) {
            Measurement d = measured.get(0);
            SortedMap<Integer, Measurement> byRank = new TreeMap<>();
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s %d→%d, %d rows: dense %.3f ms",
                    target, in, outF, batch * rowsPerImage, d.ms()));
            for (int i = 0; i < ranks.length; i++) {
                byRank.put(ranks[i], measured.get(i + 1));
                line.append(String.format(Locale.ROOT, ", r%d %.3f", ranks[i], measured.get(i + 1).ms()));
            }
            if (print) {
                out.println(line);
            }
            return new LatencyTable.Module(in, outF, batch * rowsPerImage, d, byRank);
        }
    }

    /** Subnet {@code c} with random weights, laid out as an export under {@code rule} lays it out. */
    private VisionTransformer build(Candidate c, FactorizationRule rule) {
        Map<String, LinearSpec> specs = new LinkedHashMap<>();
        for (int b = 0; b < space.depth(); b++) {
            for (int t = 0; t < space.targets().size(); t++) {
                int r = space.rank(t, c.ratioIndex(b, t));
                String path = space.modulePath(b, t);
                if (rule.factorize(path, space.inFeatures(t), space.outFeatures(t), r)) {
                    specs.put(path, new LinearSpec.LowRank(r));
                }
            }
        }
        VisionTransformer m = new VisionTransformer(backend, space.config(), specs);
        ViTInitializer.initialize(m, 1);
        return m;
    }
}
