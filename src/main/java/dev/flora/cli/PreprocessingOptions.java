package dev.flora.cli;

import dev.flora.image.Interpolation;
import dev.flora.image.Preprocessing;
import dev.flora.models.ModelPreprocessing;
import java.util.Arrays;
import picocli.CommandLine.Option;

/**
 * The eval transform's flags, named as timm's {@code validate.py} names them, for every command
 * that reads image files. A flag not given leaves the value to the model file's metadata, then
 * to timm's defaults ({@link ModelPreprocessing#resolve}).
 */
public final class PreprocessingOptions {
    @Option(names = "--img-size", paramLabel = "N",
            description = "Input side in pixels; only the model's own is accepted (default: the model's).")
    Integer imgSize;

    @Option(names = "--crop-pct", paramLabel = "F",
            description = "Center-crop fraction in (0, 1]: the shorter side is resized to img-size / F, then the "
                    + "center img-size square is kept; 1 keeps the whole image (default: the model file's, else "
                    + Preprocessing.DEFAULT_CROP_PCT + ").")
    Double cropPct;

    @Option(names = "--interpolation", paramLabel = "nearest|bilinear|bicubic",
            description = "Resize filter (default: the model file's, else timm's).")
    String interpolation;

    @Option(names = "--mean", split = ",", paramLabel = "M",
            description = "Per-channel mean of the [0, 1] input, one value per channel (default: the model file's, "
                    + "else timm's).")
    double[] mean;

    @Option(names = "--std", split = ",", paramLabel = "S",
            description = "Per-channel standard deviation, one positive value per channel (default: the model "
                    + "file's, else timm's).")
    double[] std;

    /** The flags given, checked here so that a bad value names its flag. */
    public ModelPreprocessing.Overrides overrides() {
        if (cropPct != null && !(cropPct > 0 && cropPct <= 1)) {
            throw new IllegalArgumentException("--crop-pct must be in (0, 1], got " + cropPct);
        }
        if (interpolation != null) {
            try {
                Interpolation.parse(interpolation);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--interpolation: " + e.getMessage());
            }
        }
        if (std != null && Arrays.stream(std).anyMatch(s -> !(s > 0) || Double.isInfinite(s))) {
            throw new IllegalArgumentException("--std values must be positive and finite, got " + Arrays.toString(std));
        }
        if (mean != null && Arrays.stream(mean).anyMatch(m -> !Double.isFinite(m))) {
            throw new IllegalArgumentException("--mean values must be finite, got " + Arrays.toString(mean));
        }
        return new ModelPreprocessing.Overrides(imgSize, cropPct, interpolation, mean, std);
    }
}
