package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * How a supernet shares weights and samples subnets. LRAT is FLORA's low-rank aware training
 * paradigm: all ranks of a module inherit slices of one pair of SVD factors, and subnets are
 * drawn with p(r) ∝ 1/r. SPOS is the paper's baseline: each rank choice is an independent
 * pair of factors and subnets are drawn uniformly.
 */
public enum Method {
    LRAT(true),
    SPOS(false);

    private final boolean inheritsWeights;

    Method(boolean inheritsWeights) {
        this.inheritsWeights = inheritsWeights;
    }

    public boolean inheritsWeights() {
        return inheritsWeights;
    }

    @JsonValue
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Method parse(String s) {
        for (Method m : values()) {
            if (m.name().equalsIgnoreCase(s)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown supernet method '" + s + "' (expected lrat or spos)");
    }
}
