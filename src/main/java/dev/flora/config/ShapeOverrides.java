package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.image.Preprocessing;

/** The {@code shape} section of pre-training: explicit changes to the preset's architecture (null keeps it). */
public record ShapeOverrides(
        @JsonPropertyDescription("Embedding width instead of the preset's.") Integer embedDim,
        @JsonPropertyDescription("Number of blocks instead of the preset's.") Integer depth,
        @JsonPropertyDescription("Attention heads instead of the preset's.") Integer numHeads,
        @JsonPropertyDescription("Patch size instead of the preset's.") Integer patchSize,
        @JsonPropertyDescription("MLP ratio instead of the preset's.") Double mlpRatio,
        @JsonPropertyDescription("Input image side in pixels instead of the preset's.") Integer imgSize,
        @JsonPropertyDescription("Input channels (1 or 3) instead of the preset's; images are converted to them.")
        Integer inChans) {

    public static ShapeOverrides none() {
        return new ShapeOverrides(null, null, null, null, null, null, null);
    }

    /**
     * The preset with these changes. A changed channel count takes timm's default normalization
     * for it (ImageNet mean/std for RGB, 0.5/0.5 for one channel): the preset's is per channel.
     */
    ViTConfig applyTo(ViTConfig p) {
        int chans = inChans != null ? inChans : p.inChans();
        boolean sameChans = chans == p.inChans();
        Preprocessing defaults = Preprocessing.timmDefaults(imgSize != null ? imgSize : p.imgSize(), chans);
        return new ViTConfig(imgSize != null ? imgSize : p.imgSize(), patchSize != null ? patchSize : p.patchSize(),
                chans, embedDim != null ? embedDim : p.embedDim(), depth != null ? depth : p.depth(),
                numHeads != null ? numHeads : p.numHeads(), mlpRatio != null ? mlpRatio : p.mlpRatio(),
                p.numClasses(), sameChans ? p.inputMean() : defaults.mean(), sameChans ? p.inputStd() : defaults.std(),
                p.distilled());
    }
}
