package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The {@code space} section: which linear layers of each block are factorized and at which rank
 * ratios of min(in, out). The default space factorizes qkv, fc1 and fc2 at the seven default ratios.
 */
public record SpaceSettings(
        @JsonPropertyDescription("Also factorize attn.proj.") boolean includeProj,
        @JsonPropertyDescription("Rank ratios of min(in, out), in (0, 1]; empty for "
                + "0.125,0.25,0.375,0.5,0.625,0.75,1.0.") double[] ratios) {

    public SpaceSettings {
        Checks.ratios(ratios);
    }

    public static SpaceSettings defaults() {
        return new SpaceSettings(false, null);
    }
}
