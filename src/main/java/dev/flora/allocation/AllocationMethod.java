package dev.flora.allocation;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How {@code flora allocate} chooses each module's rank, and what its one threshold is called. */
public enum AllocationMethod {
    /** One rank ratio for every module (today's baseline); the threshold is that ratio. */
    UNIFORM("uniform", "ratio", false),
    /** The smallest rank holding a fraction τ of Σσ² of the weight. */
    SVD_ENERGY("svd-energy", "tau", false),
    /** The same rule on the spectrum of W·L, L the factor of the input covariance (SVD-LLM / ASVD). */
    ACTIVATION_AWARE("activation-aware", "tau", true),
    /** The smallest rank of the weight's SVD whose relative output error is under ε (FLAR-SVD). */
    GREEDY("greedy", "epsilon", true),
    /**
     * One threshold on σᵢ / σ_max, σ_max the largest singular value of all target modules: every
     * module keeps its singular values above it (LoRITa's global singular-value truncation).
     */
    GLOBAL_THRESHOLD("global-threshold", "sigma", false);

    private final String label;
    private final String threshold;
    private final boolean calibrated;

    AllocationMethod(String label, String threshold, boolean calibrated) {
        this.label = label;
        this.threshold = threshold;
        this.calibrated = calibrated;
    }

    public String label() {
        return label;
    }

    /** The name of the threshold bisected to the target (ratio, tau, epsilon or sigma). */
    public String threshold() {
        return threshold;
    }

    /** Whether the method reads calibration images. */
    public boolean calibrated() {
        return calibrated;
    }

    /** All labels, for help and errors. */
    public static String labels() {
        return Arrays.stream(values()).map(AllocationMethod::label).collect(Collectors.joining("|"));
    }

    public static AllocationMethod parse(String s) {
        for (AllocationMethod m : values()) {
            if (m.label.equals(s.trim().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("--method '" + s + "': expected one of " + labels());
    }
}
