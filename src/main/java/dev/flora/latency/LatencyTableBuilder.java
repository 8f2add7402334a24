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
 * Measures a {@link LatencyTable} on this machine: after a warm-up, the dense model end to end,
 * then every target module of the space, dense and at every rank of the grid, at
 * the rows it sees in the forward at the serving batch (blocks 0..depth−2 and the last block's
 * qkv: batch × tokens; the last block's proj and MLP: the class token rows alone). Modules of
 * the same shape and rows are timed once and share the figures. The fixed overhead is then
 * calibrated on the dense model and a few random subnets, and {@link #check} measures the
 * predictor on others. Subnets are built with random weights (time does not depend on them),
 * factorized where the table says that is faster, as the export under the table stores them.
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
    /** Weights of the models timed together, interleaved: all of vit-fmnist's subnets, a few of DeiT-S's. */
    private static final long GROUP_BYTES = 512L << 20;

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

    /** Times the modules and the dense model, and calibrates the overhead on {@code calibration} random subnets. */
    public LatencyTable build(int calibration, long seed) {
        Machine machine = Machine.of(backend);
        out.printf(Locale.ROOT, "latency table for %s at batch %d on %s; warming up for %.1f s%n", model, batch,
                machine, timing.warmupSeconds());
        modelMeter.warmUp(dense, batch, timing.warmupSeconds());
        Timed timed = timeModulesAndParts();
        Map<String, LatencyTable.Module> modules = timed.modules();
        LatencyPredictor modulesOnly = new LatencyPredictor(new LatencyTable(LatencyTable.FORMAT, machine, model, batch,
                space.config().tokens(), timing, new Measurement(1, 0, 1), 0, modules, timed.parts(), List.of(), null),
                space, model);
        // the dense model (null) and the random subnets, timed together: what each costs beyond its modules' sum
        List<Candidate> subnets = new ArrayList<>();
        subnets.add(null);
        subnets.addAll(randomSubnets(calibration, seed));
        List<Measurement> measured = timeModels(subnets, modulesOnly);
        Measurement d = measured.get(0);
        out.printf(Locale.ROOT, "dense model: %.3f ms (spread %.3f, %d samples)%n", d.ms(), d.spread(), d.samples());
        double[] residual = new double[subnets.size()];
        for (int i = 0; i < subnets.size(); i++) {
            residual[i] = measured.get(i).ms() - modulesMillis(modulesOnly, subnets.get(i));
        }
        double overhead = LatencyMeter.median(residual);
        List<LatencyTable.Point> points = new ArrayList<>();
        for (int i = 0; i < subnets.size(); i++) {
            Candidate c = subnets.get(i);
            points.add(LatencyTable.Point.of(c == null ? "dense" : c.encode(), overhead + modulesMillis(modulesOnly, c),
                    measured.get(i)));
        }
        out.printf(Locale.ROOT, "fixed overhead %.3f ms (median over the dense model and %d random subnets of measured "
                + "minus the modules and parts)%n", overhead, calibration);
        return new LatencyTable(LatencyTable.FORMAT, machine, model, batch, space.config().tokens(), timing, d,
                overhead, modules, timed.parts(), points, null);
    }

    /** The modules' share of the prediction for subnet {@code c}; null is the dense model. */
    private static double modulesMillis(LatencyPredictor modulesOnly, Candidate c) {
        return c == null ? modulesOnly.millis(Map.of()) : modulesOnly.millis(c);
    }

    /** Predicts and measures {@code n} random subnets (another seed than the calibration's), one line each. */
    public LatencyTable.Check check(LatencyTable table, int n, long seed) {
        LatencyPredictor p = new LatencyPredictor(table, space, model);
        List<Candidate> subnets = randomSubnets(n, ~seed);
        List<Measurement> measured = timeModels(subnets, p);
        List<LatencyTable.Point> points = new ArrayList<>();
        for (int i = 0; i < subnets.size(); i++) {
            Candidate c = subnets.get(i);
            LatencyTable.Point pt = LatencyTable.Point.of(c.encode(), p.millis(c), measured.get(i));
            points.add(pt);
            out.printf(Locale.ROOT, "check %d/%d: predicted %.3f ms, measured %.3f ms (spread %.3f), error %+.1f %%%n",
                    i + 1, n, pt.predictedMs(), pt.measuredMs(), pt.spread(), pt.errorPct());
        }
        LatencyTable.Check c = LatencyTable.Check.of(points);
        out.printf(Locale.ROOT, "predictor on %d random subnets at batch %d: median |error| %.2f %%, worst %.2f %%%n",
                n, batch, c.medianAbsErrorPct(), c.worstAbsErrorPct());
        return c;
    }

    /**
     * End-to-end inference times of {@code subnets} (null: the dense model) at the serving
     * batch, laid out under {@code rule}, their passes interleaved within groups of models that
     * together hold about {@link #GROUP_BYTES} of weights.
     */
    private List<Measurement> timeModels(List<Candidate> subnets, FactorizationRule rule) {
        int group = (int) Math.max(1, Math.min(subnets.size(), GROUP_BYTES / (4 * dense.parameterCount())));
        List<Measurement> measured = new ArrayList<>();
        for (int i = 0; i < subnets.size(); i += group) {
            List<Runnable> calls = new ArrayList<>();
            for (Candidate c : subnets.subList(i, Math.min(subnets.size(), i + group))) {
                calls.add(modelMeter.inference(c == null ? dense : build(c, rule), batch));
            }
            measured.addAll(modelMeter.timeAll(calls));
        }
        return measured;
    }

    /** The target modules' times by path, and the rest of the model's parts by name. */
    private record Timed(Map<String, LatencyTable.Module> modules, Map<String, LatencyTable.Part> parts) {
    }

    /**
     * Every target module's times and the parts' (all timed together, their passes interleaved);
     * modules of one shape and row count share one probe.
     */
    private Timed timeModulesAndParts() {
        Map<String, Probe> byShape = new LinkedHashMap<>();
        Map<String, Probe> byPath = new LinkedHashMap<>();
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
        List<Runnable> calls = new ArrayList<>();
        for (Probe p : byShape.values()) {
            calls.addAll(p.forwards);
        }
        Parts parts = new Parts(lanes);
        calls.addAll(parts.forwards.values());
        List<Measurement> measured = moduleMeter.timeAll(calls);
        int next = 0;
        Map<Probe, LatencyTable.Module> results = new HashMap<>();
        for (Probe p : byShape.values()) {
            results.put(p, p.module(measured.subList(next, next + p.forwards.size())));
            next += p.forwards.size();
        }
        Map<String, LatencyTable.Module> modules = new LinkedHashMap<>();
        byPath.forEach((path, p) -> modules.put(path, results.get(p)));
        return new Timed(modules, parts.table(measured.subList(next, measured.size()), modules));
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

        /** The parts' table entries from their {@code measured} times, printed as one line. */
        Map<String, LatencyTable.Part> table(List<Measurement> measured, Map<String, LatencyTable.Module> modules) {
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
            out.println(line.append(" (blocks: beyond their target modules)"));
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

        /** The module's table entry from its {@code measured} forwards (dense first), printed as one line. */
        LatencyTable.Module module(List<Measurement> measured) {
            Measurement d = measured.get(0);
            SortedMap<Integer, Measurement> byRank = new TreeMap<>();
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s %d→%d, %d rows: dense %.3f ms",
                    target, in, outF, batch * rowsPerImage, d.ms()));
            for (int i = 0; i < ranks.length; i++) {
                byRank.put(ranks[i], measured.get(i + 1));
                line.append(String.format(Locale.ROOT, ", r%d %.3f", ranks[i], measured.get(i + 1).ms()));
            }
            out.println(line);
            return new LatencyTable.Module(in, outF, batch * rowsPerImage, d, byRank);
        }
    }

    /** {@code n} subnets drawn uniformly from the space, block by block. */
    private List<Candidate> randomSubnets(int n, long seed) {
        Random rng = new Random(seed);
        List<Candidate> out = new ArrayList<>();
        int nt = space.targets().size();
        for (int i = 0; i < n; i++) {
            int[] genes = new int[space.depth() * nt];
            for (int b = 0; b < space.depth(); b++) {
                List<int[]> allowed = space.allowed(b);
                System.arraycopy(allowed.get(rng.nextInt(allowed.size())), 0, genes, b * nt, nt);
            }
            out.add(new Candidate(genes, nt));
        }
        return out;
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
