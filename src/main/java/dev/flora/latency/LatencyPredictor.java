package dev.flora.latency;

import dev.flora.engine.io.FormatException;
import dev.flora.space.Candidate;
import dev.flora.space.FactorizationRule;
import dev.flora.space.SearchSpace;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;

/**
 * Predicted latency of a subnet at the table's batch: the table's calibrated overhead and the
 * rest of the model's parts, plus each target module's time at its rank. As in FLAR-SVD, a factorization that did not beat the dense
 * layer is priced as dense, and {@link #factorize} tells the export to keep that module dense.
 * A rank between two measured ones (the uniform baseline's, off the grid) is interpolated.
 */
public final class LatencyPredictor implements FactorizationRule {
    private final LatencyTable table;
    private final SearchSpace space;
    private final String source;

    /** Fails, naming {@code source}, when the table lacks a module or rank of {@code space} or has another shape. */
    public LatencyPredictor(LatencyTable table, SearchSpace space, String source) {
        this.table = table;
        this.space = space;
        this.source = source;
        if (table.tokens() != space.config().tokens()) {
            throw new FormatException(source + ": latency table measured at " + table.tokens() + " tokens per image; "
                    + "the model has " + space.config().tokens());
        }
        for (int b = 0; b < space.depth(); b++) {
            for (int t = 0; t < space.targets().size(); t++) {
                String path = space.modulePath(b, t);
                LatencyTable.Module m = module(path);
                if (m.in() != space.inFeatures(t) || m.out() != space.outFeatures(t)) {
                    throw new FormatException(String.format(Locale.ROOT, "%s: module %s is %d→%d in the latency "
                            + "table, %d→%d in the model", source, path, m.in(), m.out(), space.inFeatures(t),
                            space.outFeatures(t)));
                }
                for (int[] tuple : space.allowed(b)) {
                    int r = space.rank(t, tuple[t]);
                    if (!m.ranks().containsKey(r)) {
                        throw new FormatException(String.format(Locale.ROOT, "%s: the latency table has no time for "
                                + "%s at rank %d (ratio %s of the search space); build it for this space "
                                + "(flora latency-table --search-space)", source, path, r, space.ratios()[tuple[t]]));
                    }
                }
            }
        }
    }

    /**
     * The predictor of the table in {@code file} for {@code space}, refused when the table was
     * measured on another machine, backend or thread count than {@code backend} here.
     */
    public static LatencyPredictor open(java.nio.file.Path file, SearchSpace space,
                                        dev.flora.engine.backend.Backend backend) {
        LatencyTable t = LatencyTable.read(file);
        t.requireMachine(Machine.of(backend), file);
        return new LatencyPredictor(t, space, file.toString());
    }

    private LatencyTable.Module module(String path) {
        LatencyTable.Module m = table.modules().get(path);
        if (m == null) {
            throw new FormatException(source + ": the latency table has no module " + path + " (it was built for "
                    + "another model or search space)");
        }
        return m;
    }

    public LatencyTable table() {
        return table;
    }

    public int batch() {
        return table.batch();
    }

    /** Milliseconds of module {@code path} at {@code rank}, laid out as {@link #factorize} lays it out. */
    public double moduleMillis(String path, int rank) {
        LatencyTable.Module m = module(path);
        return factorize(m, rank) ? factorizedMillis(m, rank) : m.dense().ms();
    }

    /** Whether module {@code path} at {@code rank} is laid out factorized: where that ran faster than dense (FLAR-SVD). */
    @Override
    public boolean factorize(String path, int in, int out, int rank) {
        return factorize(module(path), rank);
    }

    /** The table's decision at a measured rank; between ranks (and in tables without decisions) the faster time. */
    private static boolean factorize(LatencyTable.Module m, int rank) {
        if (m.factorized() != null && m.ranks().containsKey(rank)) {
            return m.factorized().contains(rank);
        }
        return factorizedMillis(m, rank) < m.dense().ms();
    }

    /** The measured time at {@code rank}, or the straight line between the measured ranks around it. */
    private static double factorizedMillis(LatencyTable.Module m, int rank) {
        SortedMap<Integer, Measurement> r = m.ranks();
        Measurement exact = r.get(rank);
        if (exact != null) {
            return exact.ms();
        }
        SortedMap<Integer, Measurement> below = r.headMap(rank);
        SortedMap<Integer, Measurement> above = r.tailMap(rank);
        if (below.isEmpty()) {
            return above.get(above.firstKey()).ms();
        }
        if (above.isEmpty()) {
            return below.get(below.lastKey()).ms();
        }
        int lo = below.lastKey();
        int hi = above.firstKey();
        double f = (rank - lo) / (double) (hi - lo);
        return below.get(lo).ms() + f * (above.get(hi).ms() - below.get(lo).ms());
    }

    /** Milliseconds of block {@code b}'s target modules at ratio indices {@code tuple}. */
    public double blockMillis(int b, int[] tuple) {
        double ms = 0;
        for (int t = 0; t < tuple.length; t++) {
            ms += moduleMillis(space.modulePath(b, t), space.rank(t, tuple[t]));
        }
        return ms;
    }

    /** What does not depend on the space's ranks: overhead, parts, and any table module outside the space, dense. */
    public double fixedMillis() {
        double ms = table.overheadMs() + table.partsMillis();
        for (var e : table.modules().entrySet()) {
            if (!isTarget(e.getKey())) {
                ms += e.getValue().dense().ms();
            }
        }
        return ms;
    }

    private boolean isTarget(String path) {
        for (int b = 0; b < space.depth(); b++) {
            for (int t = 0; t < space.targets().size(); t++) {
                if (space.modulePath(b, t).equals(path)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Predicted milliseconds of a forward at the table's batch. */
    public double millis(Candidate c) {
        double ms = fixedMillis();
        for (int b = 0; b < space.depth(); b++) {
            ms += blockMillis(b, c.tuple(b));
        }
        return ms;
    }

    /** The same for explicit ranks (path to rank); a target module not named is dense. */
    public double millis(Map<String, Integer> ranks) {
        double ms = table.overheadMs() + table.partsMillis();
        for (var e : table.modules().entrySet()) {
            Integer r = ranks.get(e.getKey());
            ms += r == null ? e.getValue().dense().ms() : moduleMillis(e.getKey(), r);
        }
        return ms;
    }
}
