package dev.flora.supernet;

import dev.flora.supernet.Sampler;
import java.util.Locale;

/**
 * How a supernet shares weights and samples subnets. LRAT is FLORA's low-rank aware training
 * paradigm: all ranks of a module inherit slices of one pair of SVD factors, and subnets are
 * drawn with p(r) ∝ 1/r. SPOS is the paper's baseline: each rank choice is an independent
 * pair of factors and subnets are drawn uniformly.
 */
public enum Method {
    LRAT(true, Sampler.Kind.LOW_RANK_AWARE),
    SPOS(false, Sampler.Kind.UNIFORM);

    private final boolean inheritsWeights;
    private final Sampler.Kind sampling;

    Method(boolean inheritsWeights, Sampler.Kind sampling) {
        this.inheritsWeights = inheritsWeights;
        this.sampling = sampling;
    }

    public boolean inheritsWeights() {
        return inheritsWeights;
    }

    public Sampler.Kind sampling() {
        return sampling;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Method parse(String s) {
        for (Method m : values()) {
            if (m.name().equalsIgnoreCase(s)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown supernet method '" + s + "' (expected lrat or spos)");
    }
}
