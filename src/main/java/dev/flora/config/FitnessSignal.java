package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What the search ranks subnets by, higher being better. Top-1 on a few thousand images moves in
 * steps of one image and has a standard error near a point, so two continuous signals are offered
 * beside it: the mean cross-entropy, and the divergence from the dense teacher's outputs.
 */
public enum FitnessSignal {
    /** Validation top-1 in percent (the FLORA reference's fitness). */
    TOP1,
    /** Minus the mean cross-entropy on the validation images. */
    LOSS,
    /** Minus the mean KL(teacher || subnet), the teacher being the supernet's largest subnet. */
    KL;

    @JsonValue
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** All labels, for help and errors. */
    public static String labels() {
        return Arrays.stream(values()).map(FitnessSignal::label).collect(Collectors.joining("|"));
    }

    @JsonCreator
    public static FitnessSignal parse(String s) {
        for (FitnessSignal f : values()) {
            if (f.label().equals(s.trim().toLowerCase(Locale.ROOT))) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown search fitness '" + s + "' (expected " + labels() + ")");
    }
}
