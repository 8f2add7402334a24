package dev.flora.latency;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.LinearSpec;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
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
        Measurement d = time(dense);
        out.printf(Locale.ROOT, "dense model: %.3f ms (spread %.3f, %d samples)%n", d.ms(), d.spread(), d.samples());
        LatencyTable uncalibrated = new LatencyTable(LatencyTable.FORMAT, machine, model, batch,
                space.config().tokens(), timing, d, 0, timeModules(), List.of(), null);
        LatencyPredictor modulesOnly = new LatencyPredictor(uncalibrated, space, model);
        List<Candidate> subnets = randomSubnets(calibration, seed);
        // the dense model (timed already) and the random subnets: what each costs beyond its modules' sum
        double[] residual = new double[subnets.size() + 1];
        residual[0] = d.ms() - modulesOnly.millis(Map.of());
        List<Measurement> measured = new ArrayList<>();
        for (int i = 0; i < subnets.size(); i++) {
            Measurement m = time(build(subnets.get(i), modulesOnly));
            measured.add(m);
            residual[i + 1] = m.ms() - modulesOnly.millis(subnets.get(i));
        }
        double overhead = LatencyMeter.median(residual);
        List<LatencyTable.Point> points = new ArrayList<>();
        points.add(LatencyTable.Point.of("dense", overhead + modulesOnly.millis(Map.of()), d));
        for (int i = 0; i < subnets.size(); i++) {
            points.add(LatencyTable.Point.of(subnets.get(i).encode(), overhead + modulesOnly.millis(subnets.get(i)),
                    measured.get(i)));
        }
        out.printf(Locale.ROOT, "fixed overhead %.3f ms (median over the dense model and %d random subnets of measured "
                + "minus the modules' sum)%n", overhead, calibration);
        return new LatencyTable(LatencyTable.FORMAT, machine, model, batch, space.config().tokens(), timing, d,
                overhead, uncalibrated.modules(), points, null);
    }

    /** Predicts and measures {@code n} random subnets (another seed than the calibration's), one line each. */
    public LatencyTable.Check check(LatencyTable table, int n, long seed) {
        LatencyPredictor p = new LatencyPredictor(table, space, model);
        List<LatencyTable.Point> points = new ArrayList<>();
        List<Candidate> subnets = randomSubnets(n, ~seed);
        for (int i = 0; i < subnets.size(); i++) {
            Candidate c = subnets.get(i);
            LatencyTable.Point pt = LatencyTable.Point.of(c.encode(), p.millis(c), time(build(c, p)));
            points.add(pt);
            out.printf(Locale.ROOT, "check %d/%d: predicted %.3f ms, measured %.3f ms (spread %.3f), error %+.1f %%%n",
                    i + 1, n, pt.predictedMs(), pt.measuredMs(), pt.spread(), pt.errorPct());
        }
        LatencyTable.Check c = LatencyTable.Check.of(points);
        out.printf(Locale.ROOT, "predictor on %d random subnets at batch %d: median |error| %.2f %%, worst %.2f %%%n",
                n, batch, c.medianAbsErrorPct(), c.worstAbsErrorPct());
        return c;
    }

    /** End-to-end inference time of {@code m} at the serving batch. */
    private Measurement time(VisionTransformer m) {
        return modelMeter.timeInference(m, batch);
    }

    /** Every target module's times; modules of one shape and row count share one probe. */
    private Map<String, LatencyTable.Module> timeModules() {
        Map<String, LatencyTable.Module> modules = new LinkedHashMap<>();
        Map<String, LatencyTable.Module> byShape = new HashMap<>();
        int[] lanes = VisionTransformer.laneImages(backend, batch);
        for (int b = 0; b < space.depth(); b++) {
            for (int t = 0; t < space.targets().size(); t++) {
                int in = space.inFeatures(t);
                int outF = space.outFeatures(t);
                String target = space.targets().get(t);
                // the last block runs everything after its qkv on the class (and distillation) rows alone
                boolean tail = b == space.depth() - 1 && !target.equals("attn.qkv");
                int rowsPerImage = tail ? space.config().prefixTokens() : space.config().tokens();
                boolean residual = target.equals("mlp.fc2") || target.equals("attn.proj");
                String key = in + "x" + outF + "@" + rowsPerImage + (residual ? "+skip" : "");
                int tt = t;
                modules.put(space.modulePath(b, t), byShape.computeIfAbsent(key,
                        k -> probe(target, in, outF, rowsPerImage, residual, lanes, space.ranks(tt))));
            }
        }
        return modules;
    }

    private LatencyTable.Module probe(String target, int in, int outF, int rowsPerImage, boolean residual, int[] lanes,
                                      int[] ranks) {
        int[] laneRows = new int[lanes.length];
        for (int i = 0; i < lanes.length; i++) {
            laneRows[i] = lanes[i] * rowsPerImage;
        }
        ModuleProbe probe = new ModuleProbe(backend, moduleMeter, in, outF, laneRows, residual);
        Measurement d = probe.time(new LinearSpec.Dense());
        SortedMap<Integer, Measurement> byRank = new TreeMap<>();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s %d→%d, %d rows: dense %.3f ms",
                target, in, outF, batch * rowsPerImage, d.ms()));
        for (int r : ranks) {
            Measurement m = probe.time(new LinearSpec.LowRank(r));
            byRank.put(r, m);
            line.append(String.format(Locale.ROOT, ", r%d %.3f", r, m.ms()));
        }
        out.println(line);
        return new LatencyTable.Module(in, outF, batch * rowsPerImage, d, byRank);
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
