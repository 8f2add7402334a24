package dev.flora.models;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.image.Preprocessing;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What a model expects as input and what its outputs mean: its preprocessing and its class
 * names. Both travel in the metadata of every file derived from the model (trained model,
 * supernet, checkpoint, exported subnet), as timm's {@code pretrained_cfg} travels with a timm model.
 */
public record ModelInput(Preprocessing preprocessing, List<String> classNames) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelInput {
        classNames = List.copyOf(classNames);
    }

    /**
     * Images at the model's own size fed whole (crop_pct 1, so no resize), normalized with the
     * config's mean and std, classes unnamed: the input of IDX-trained models and of tests.
     */
    public static ModelInput atModelSize(ViTConfig c) {
        return new ModelInput(new Preprocessing(c.imgSize(), 1.0, Preprocessing.DEFAULT_INTERPOLATION, c.inputMean(),
                c.inputStd()), List.of());
    }

    /** The input of a loaded model: flags over its metadata over timm's defaults (see {@link ModelPreprocessing}). */
    public static ModelInput of(ModelSource.LoadedModel model, ModelPreprocessing.Overrides flags,
                                Consumer<String> notes) {
        Preprocessing p = ModelPreprocessing.resolve(model, flags, notes);
        return new ModelInput(p, ModelLabels.recorded(model));
    }

    /** The metadata that records this input in a saved model. */
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>(ModelPreprocessing.metadata(preprocessing));
        if (!classNames.isEmpty()) {
            try {
                m.put(ModelLabels.CLASS_NAMES, JSON.writeValueAsString(classNames));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        return m;
    }
}
