package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LinearProduct;
import dev.flora.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A choice block of independent factorized layers, one per rank choice, as SPOS treats a
 * low-rank search space: choice i is a {@link LowRankLinear} of rank {@code ranks[i]} stored
 * under {@code path.choices.i}, and no weights are shared between choices.
 */
public final class ChoiceLinear implements RankedLinear {
    private final String path;
    private final int in;
    private final int out;
    private final int[] ranks;
    private final List<LowRankLinear> choices;
    private int active;
    private LowRankLinear forwarded;

    public ChoiceLinear(Backend backend, ParameterArena.Builder params, String path, int in, int out, int[] ranks) {
        this.path = path;
        this.in = in;
        this.out = out;
        this.ranks = ranks.clone();
        List<LowRankLinear> cs = new ArrayList<>();
        for (int i = 0; i < ranks.length; i++) {
            cs.add(new LowRankLinear(backend, params, path + ".choices." + i, in, out, ranks[i]));
        }
        this.choices = List.copyOf(cs);
        this.active = ranks.length - 1;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return out;
    }

    public List<LowRankLinear> choices() {
        return choices;
    }

    @Override
    public boolean supportsRank(int r) {
        return Arrays.stream(ranks).anyMatch(x -> x == r);
    }

    @Override
    public void setRank(int r) {
        for (int i = 0; i < ranks.length; i++) {
            if (ranks[i] == r) {
                active = i;
                return;
            }
        }
        throw new IllegalArgumentException(path + ": rank " + r + " is not one of the choices "
                + Arrays.toString(ranks));
    }

    @Override
    public int rank() {
        return ranks[active];
    }

    @Override
    public int maxRank() {
        return Arrays.stream(ranks).max().orElseThrow();
    }

    /** The layer that computes the current rank. */
    public LowRankLinear activeChoice() {
        return choices.get(active);
    }

    @Override
    public long macsPerRow() {
        return activeChoice().macsPerRow();
    }

    @Override
    public Tensor forward(Tensor x, int rows, Tensor residual) {
        forwarded = activeChoice();
        return forwarded.forward(x, rows, residual);
    }

    @Override
    public LinearProduct inferenceProduct() {
        return activeChoice().inferenceProduct();
    }

    @Override
    public Tensor backward(Tensor dy) {
        return forwarded.backward(dy);
    }
}
