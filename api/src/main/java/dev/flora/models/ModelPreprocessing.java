package dev.flora.models;

import dev.flora.engine.io.FormatException;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.image.Interpolation;
import dev.flora.image.Preprocessing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A model's input preprocessing, resolved as timm's {@code resolve_data_config} does: a flag
 * wins, else the model file's metadata, else timm's DeiT defaults, and every value taken from a
 * default is reported in one line (a model evaluated with a normalization it was not trained
 * with loses accuracy silently otherwise).
 */
public final class ModelPreprocessing {
    /** Metadata keys, as flora-j writes them next to the config keys of ModelIO. */
    public static final String CROP_PCT = "crop_pct";
    public static final String INTERPOLATION = "interpolation";
    public static final String MEAN = "input_mean";
    public static final String STD = "input_std";

    private ModelPreprocessing() {
    }

    /** Values from flags; null where the flag was not given. */
    public record Overrides(Integer imgSize, Double cropPct, String interpolation, double[] mean, double[] std) {
        public static Overrides none() {
            return new Overrides(null, null, null, null, null);
        }
    }

    /** The preprocessing of {@code model}, with {@code notes} told which values are defaults. */
    public static Preprocessing resolve(ModelSource.LoadedModel model, Overrides flags, Consumer<String> notes) {
        ViTConfig c = model.model().config();
        Map<String, String> meta = model.metadata();
        if (flags.imgSize() != null && flags.imgSize() != c.imgSize()) {
            throw new IllegalArgumentException("--img-size " + flags.imgSize() + ": " + model.name() + " takes "
                    + c.imgSize() + "-pixel inputs (its pos_embed has " + c.numPatches() + " patches); other sizes "
                    + "would need position-embedding interpolation, which flora-j does not do");
        }
        Preprocessing defaults = Preprocessing.timmDefaults(c.imgSize(), c.inChans());
        List<String> defaulted = new ArrayList<>();
        double cropPct = flags.cropPct() != null ? flags.cropPct()
                : meta.containsKey(CROP_PCT) ? number(model, CROP_PCT, meta.get(CROP_PCT))
                : defaulted(defaulted, CROP_PCT, defaults.cropPct());
        Interpolation interp = flags.interpolation() != null ? Interpolation.parse(flags.interpolation())
                : meta.containsKey(INTERPOLATION) ? interpolation(model, meta.get(INTERPOLATION))
                : defaulted(defaulted, INTERPOLATION, defaults.interpolation());
        // the engine's config already holds the normalization (its own default when the file has none)
        double[] mean = flags.mean() != null ? flags.mean() : meta.containsKey(MEAN) ? c.inputMean()
                : defaulted(defaulted, MEAN, defaults.mean());
        double[] std = flags.std() != null ? flags.std() : meta.containsKey(STD) ? c.inputStd()
                : defaulted(defaulted, STD, defaults.std());
        if (mean.length != c.inChans() || std.length != c.inChans()) {
            throw new IllegalArgumentException("--mean and --std need " + c.inChans() + " values for " + model.name()
                    + " (" + c.inChans() + " input channels), got " + mean.length + " and " + std.length);
        }
        Preprocessing p;
        try {
            p = new Preprocessing(c.imgSize(), cropPct, interp, mean, std);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(model.name() + ": " + e.getMessage());
        }
        if (!defaulted.isEmpty()) {
            notes.accept("note: " + model.name() + " does not record " + String.join(", ", defaulted)
                    + "; using timm's DeiT defaults (" + describe(p, defaulted) + "); set them with --crop-pct, "
                    + "--interpolation, --mean, --std");
        }
        return p;
    }

    /** The metadata that makes a saved model carry {@code p} (merged over ModelIO's config keys). */
    public static Map<String, String> metadata(Preprocessing p) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(CROP_PCT, Double.toString(p.cropPct()));
        m.put(INTERPOLATION, p.interpolation().key());
        m.put(MEAN, join(p.mean()));
        m.put(STD, join(p.std()));
        return m;
    }

    private static <T> T defaulted(List<String> names, String key, T value) {
        names.add(key);
        return value;
    }

    private static String describe(Preprocessing p, List<String> keys) {
        List<String> parts = new ArrayList<>();
        for (String k : keys) {
            parts.add(switch (k) {
                case CROP_PCT -> "crop_pct " + p.cropPct();
                case INTERPOLATION -> p.interpolation().key();
                case MEAN -> "mean " + Arrays.toString(p.mean());
                default -> "std " + Arrays.toString(p.std());
            });
        }
        return String.join(", ", parts);
    }

    private static double number(ModelSource.LoadedModel model, String key, String v) {
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new FormatException(model.name() + ": __metadata__ " + key + " is \"" + v + "\", expected a number");
        }
    }

    private static Interpolation interpolation(ModelSource.LoadedModel model, String v) {
        try {
            return Interpolation.parse(v);
        } catch (IllegalArgumentException e) {
            throw new FormatException(model.name() + ": __metadata__ " + e.getMessage());
        }
    }

    private static String join(double[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ",").append(v[i]);
        }
        return sb.toString();
    }
}
