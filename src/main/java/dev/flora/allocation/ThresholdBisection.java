package dev.flora.allocation;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * One threshold for every module ({@link Spectrum#rankFor}) bisected until the subnet's cost
 * meets a budget: the smallest dropped-tail fraction whose ranks cost at most the budget, which
 * keeps the most of each spectrum the budget allows. Ranks only shrink as the tail grows, so the
 * cost falls monotonically and bisection finds it.
 */
public final class ThresholdBisection {
    /** Halvings of [0, 1]: far below any change of one rank. */
    static final int STEPS = 60;

    private ThresholdBisection() {
    }

    /**
     * The rank of a spectrum at threshold t ∈ [0, 1], non-increasing in t, full at 0: the
     * dropped-tail fraction by default ({@link Spectrum#rankFor}), a relative singular value for
     * the global threshold ({@link Spectrum#rankAbove}).
     */
    @FunctionalInterface
    public interface RankRule {
        int rank(Spectrum s, double threshold);
    }

    /** The threshold found (a tail fraction), the ranks at it (path to rank, model order) and their cost. */
    public record Found(double tail, Map<String, Integer> ranks, long cost) {
    }

    /** The ranks of every spectrum at tail fraction {@code tail}. */
    public static Map<String, Integer> ranksAt(List<Spectrum> spectra, double tail) {
        return ranksAt(spectra, Spectrum::rankFor, tail);
    }

    /** The ranks of every spectrum at {@code threshold} by {@code rule}. */
    public static Map<String, Integer> ranksAt(List<Spectrum> spectra, RankRule rule, double threshold) {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        for (Spectrum s : spectra) {
            ranks.put(s.path(), rule.rank(s, threshold));
        }
        return ranks;
    }

    /**
     * @throws IllegalArgumentException when even rank 1 everywhere costs more than {@code budget}
     */
    public static Found atMost(List<Spectrum> spectra, ToLongFunction<Map<String, Integer>> cost, long budget,
                               long denseCost) {
        return atMost(spectra, Spectrum::rankFor, cost, budget, denseCost);
    }

    /** {@link #atMost(List, ToLongFunction, long, long)} with the ranks of threshold t by {@code rule}. */
    public static Found atMost(List<Spectrum> spectra, RankRule rule, ToLongFunction<Map<String, Integer>> cost,
                               long budget, long denseCost) {
        Map<String, Integer> smallest = ranksAt(spectra, rule, 1);
        long least = cost.applyAsLong(smallest);
        if (least > budget) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "no subnet has at most %,d FLOPs: the "
                    + "smallest (rank 1 in every target module) has %,d (%.1f %% of dense)", budget, least,
                    100.0 * least / denseCost));
        }
        Map<String, Integer> full = ranksAt(spectra, rule, 0);
        if (cost.applyAsLong(full) <= budget) {
            return new Found(0, full, cost.applyAsLong(full));
        }
        double lo = 0; // too costly
        double hi = 1; // within the budget
        Map<String, Integer> best = smallest;
        for (int i = 0; i < STEPS; i++) {
            double mid = (lo + hi) / 2;
            Map<String, Integer> r = ranksAt(spectra, rule, mid);
            if (cost.applyAsLong(r) <= budget) {
                hi = mid;
                best = r;
            } else {
                lo = mid;
            }
        }
        return new Found(hi, best, cost.applyAsLong(best));
    }
}
