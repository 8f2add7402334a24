package dev.flora.supernet;

import dev.flora.config.Method;
import dev.flora.data.Seeds;
import dev.flora.space.Candidate;
import dev.flora.space.SearchSpace;
import java.util.List;
import java.util.Random;

/**
 * Draws architectures from a search space, block by block. Low-rank aware sampling (FLORA,
 * paper eq. 6) weights each allowed tuple by 1/∏ratios, which on the full space is the same as
 * drawing each module's rank with p(r) ∝ 1/r independently; uniform sampling is SPOS's.
 */
public final class Sampler {
    /** How tuples are weighted. */
    public enum Kind {
        LOW_RANK_AWARE, UNIFORM;

        /** The sampling a supernet training method draws its subnets with. */
        public static Kind of(Method method) {
            return switch (method) {
                case LRAT -> LOW_RANK_AWARE;
                case SPOS -> UNIFORM;
            };
        }
    }

    /** The stream of {@link Seeds#mix} that training steps draw from. */
    private static final long STEP_STREAM = 1;

    private final SearchSpace space;
    private final double[][] cumulative;

    public Sampler(SearchSpace space, Kind kind) {
        this.space = space;
        double[] ratios = space.ratios();
        this.cumulative = new double[space.depth()][];
        for (int b = 0; b < space.depth(); b++) {
            List<int[]> tuples = space.allowed(b);
            double[] c = new double[tuples.size()];
            double sum = 0;
            for (int i = 0; i < tuples.size(); i++) {
                double w = 1;
                if (kind == Kind.LOW_RANK_AWARE) {
                    for (int idx : tuples.get(i)) {
                        w /= ratios[idx];
                    }
                }
                sum += w;
                c[i] = sum;
            }
            for (int i = 0; i < c.length; i++) {
                c[i] /= sum;
            }
            cumulative[b] = c;
        }
    }

    /** The probability of tuple {@code i} of block {@code b}. */
    public double probability(int b, int i) {
        return cumulative[b][i] - (i == 0 ? 0 : cumulative[b][i - 1]);
    }

    /** A tuple for block {@code b}. */
    public int[] sampleTuple(int b, Random rng) {
        double u = rng.nextDouble();
        double[] c = cumulative[b];
        int lo = 0;
        int hi = c.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (c[mid] > u) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return space.allowed(b).get(lo);
    }

    /**
     * The subnet that supernet training step {@code step} trains under {@code seed}: the same
     * for a resumed run, independent from step to step.
     */
    public Candidate sampleForStep(long seed, long step) {
        return sample(new Random(Seeds.mix(seed, STEP_STREAM, step)));
    }

    public Candidate sample(Random rng) {
        int t = space.targets().size();
        int[] genes = new int[space.depth() * t];
        for (int b = 0; b < space.depth(); b++) {
            System.arraycopy(sampleTuple(b, rng), 0, genes, b * t, t);
        }
        return new Candidate(genes, t);
    }
}
