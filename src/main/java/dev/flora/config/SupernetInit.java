package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Where a supernet's low-rank factors start. The paper's SVD of each weight keeps the rank-r
 * matrix nearest to W; the activation-aware one (SVD-LLM's, of W·L with L·Lᵀ the covariance of
 * the layer's inputs on calibration images) keeps the one whose outputs are nearest to W's on
 * those inputs, which is what a truncated subnet is judged by.
 */
public enum SupernetInit {
    SVD("svd"),
    ACTIVATION_AWARE("activation-aware");

    /** SVD-LLM and ASVD calibrate on a few hundred inputs; 256 images are 12 800 token rows for vit-fmnist. */
    public static final int DEFAULT_CALIBRATION_IMAGES = 256;

    private final String label;

    SupernetInit(String label) {
        this.label = label;
    }

    @JsonValue
    public String label() {
        return label;
    }

    /** All labels, for help and errors. */
    public static String labels() {
        return Arrays.stream(values()).map(SupernetInit::label).collect(Collectors.joining("|"));
    }

    @JsonCreator
    public static SupernetInit parse(String s) {
        for (SupernetInit i : values()) {
            if (i.label.equals(s.trim().toLowerCase(Locale.ROOT))) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown supernet init '" + s + "' (expected " + labels() + ")");
    }
}
