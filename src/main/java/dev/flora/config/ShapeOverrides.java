package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.flora.engine.nn.ViTConfig;

/** The {@code shape} section of pre-training: explicit changes to the preset's architecture (null keeps it). */
public record ShapeOverrides(
        @JsonPropertyDescription("Embedding width instead of the preset's.") Integer embedDim,
        @JsonPropertyDescription("Number of blocks instead of the preset's.") Integer depth,
        @JsonPropertyDescription("Attention heads instead of the preset's.") Integer numHeads,
        @JsonPropertyDescription("Patch size instead of the preset's.") Integer patchSize,
        @JsonPropertyDescription("MLP ratio instead of the preset's.") Double mlpRatio) {

    public static ShapeOverrides none() {
        return new ShapeOverrides(null, null, null, null, null);
    }

    ViTConfig applyTo(ViTConfig p) {
        return new ViTConfig(p.imgSize(), patchSize != null ? patchSize : p.patchSize(), p.inChans(),
                embedDim != null ? embedDim : p.embedDim(), depth != null ? depth : p.depth(),
                numHeads != null ? numHeads : p.numHeads(), mlpRatio != null ? mlpRatio : p.mlpRatio(),
                p.numClasses(), p.inputMean(), p.inputStd(), p.distilled());
    }
}
