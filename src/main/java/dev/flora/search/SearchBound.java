package dev.flora.search;

import dev.flora.latency.LatencyPredictor;
import dev.flora.space.Candidate;
import dev.flora.space.CostModel;
import dev.flora.space.FlopsBounds;
import dev.flora.space.SearchSpace;
import java.util.List;
import java.util.Locale;

/**
 * One bound of the evolutionary search on a cost that adds up over blocks: FLOPs (the paper's
 * [F_lower, F_upper]) or a latency budget predicted from a measured table. A candidate outside
 * any bound is rejected; {@link EvolutionarySearch#repair} walks a random one in block by block,
 * which needs a block's share of the cost.
 */
public final class SearchBound {
    /** A block's share of the cost at a tuple of ratio indices. */
    @FunctionalInterface
    interface BlockCost {
        double of(int block, int[] tuple);
    }

    private final String name;
    private final double lower;
    private final double upper;
    private final double base;
    private final BlockCost block;
    private final Unreachable unreachable;

    /** The one-line error when no architecture of the space spans the bound. */
    @FunctionalInterface
    private interface Unreachable {
        String message(double fewest, double most);
    }

    private SearchBound(String name, double lower, double upper, double base, BlockCost block, Unreachable unreachable) {
        this.name = name;
        this.lower = lower;
        this.upper = upper;
        this.base = base;
        this.block = block;
        this.unreachable = unreachable;
    }

    /** FLOPs within {@code b}, in multiply-accumulates per image. */
    public static SearchBound flops(SearchSpace space, FlopsBounds b) {
        CostModel cost = new CostModel(space);
        long dense = CostModel.denseMacs(space.config());
        long denseBlock = CostModel.denseBlockMacs(space.config());
        return new SearchBound(String.format(Locale.ROOT, "FLOPs bounds [%.2fM, %.2fM]", b.lower() / 1e6,
                b.upper() / 1e6), b.lower(), b.upper(), dense, (blk, t) -> cost.blockMacs(t) - denseBlock,
                (lo, hi) -> String.format(Locale.ROOT, "FLOPs bounds [%.2fM, %.2fM] admit no architecture: the search "
                        + "space spans [%.2fM, %.2fM] multiply-accumulates", b.lower() / 1e6, b.upper() / 1e6,
                        lo / 1e6, hi / 1e6));
    }

    /** Predicted latency at the table's batch of at most {@code ms} milliseconds; {@code table} names the file. */
    public static SearchBound latency(LatencyPredictor p, double ms, String table) {
        return new SearchBound(String.format(Locale.ROOT, "latency budget %.3f ms", ms), 0, ms, p.fixedMillis(),
                p::blockMillis, (lo, hi) -> String.format(Locale.ROOT, "latency budget %.3f ms at batch %d admits no "
                        + "architecture: %s predicts the search space at [%.3f, %.3f] ms", ms, p.batch(), table, lo,
                        hi));
    }

    public double cost(Candidate c) {
        double v = base;
        for (int b = 0; b < c.blocks(); b++) {
            v += block.of(b, c.tuple(b));
        }
        return v;
    }

    public boolean admits(Candidate c) {
        double v = cost(c);
        return v >= lower && v <= upper;
    }

    /** Whether {@code c} costs more than the upper bound (else, when not admitted, less than the lower). */
    boolean tooDear(Candidate c) {
        return cost(c) > upper;
    }

    /** The upper bound (the budget, for latency). */
    double upper() {
        return upper;
    }

    double blockCost(int b, int[] tuple) {
        return block.of(b, tuple);
    }

    /** The least and the most an architecture of {@code space} can cost. */
    double[] range(SearchSpace space) {
        double lo = base;
        double hi = base;
        for (int b = 0; b < space.depth(); b++) {
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (int[] t : space.allowed(b)) {
                double c = block.of(b, t);
                min = Math.min(min, c);
                max = Math.max(max, c);
            }
            lo += min;
            hi += max;
        }
        return new double[] {lo, hi};
    }

    /** Fails with the reachable range when no architecture of {@code space} can meet this bound. */
    public void checkReachable(SearchSpace space) {
        double[] r = range(space);
        if (upper < r[0] || lower > r[1]) {
            throw new IllegalArgumentException(unreachable.message(r[0], r[1]));
        }
    }

    /** "FLOPs bounds [..]" or "latency budget .. ms", for messages. */
    @Override
    public String toString() {
        return name;
    }

    /** The names of {@code bounds}, joined by " and ". */
    static String describe(List<SearchBound> bounds) {
        return String.join(" and ", bounds.stream().map(SearchBound::toString).toList());
    }
}
