package dev.flora.models;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.engine.io.FormatException;
import java.util.ArrayList;
import java.util.List;

/**
 * The class names of a model, from the {@code class_names} key of its file's metadata (a JSON
 * array of strings, one per output), so that a service prints "Sneaker" rather than "7".
 */
public final class ModelLabels {
    /** The metadata key, written as a JSON array: {@code ["cat","dog"]}. */
    public static final String CLASS_NAMES = "class_names";

    /** Fashion-MNIST's classes in label order: the names the bundled models and the bundled subset carry. */
    public static final List<String> FASHION_MNIST = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelLabels() {
    }

    /**
     * One name per class: the file's {@code class_names}, else the indices ("0", "1", ...).
     *
     * @throws FormatException if {@code class_names} is not a JSON array of as many strings as the model has classes
     */
    public static List<String> of(ModelSource.LoadedModel model) {
        List<String> names = recorded(model);
        return names.isEmpty() ? indices(model.model().config().numClasses()) : names;
    }

    /** The file's {@code class_names}, or an empty list when it has none. */
    public static List<String> recorded(ModelSource.LoadedModel model) {
        String raw = model.metadata().get(CLASS_NAMES);
        return raw == null ? List.of() : parse(model.name(), raw, model.model().config().numClasses());
    }

    private static List<String> indices(int classes) {
        List<String> indices = new ArrayList<>(classes);
        for (int i = 0; i < classes; i++) {
            indices.add(Integer.toString(i));
        }
        return List.copyOf(indices);
    }

    private static List<String> parse(String name, String raw, int classes) {
        String where = name + ": __metadata__ " + CLASS_NAMES;
        JsonNode node;
        try {
            node = JSON.readTree(raw);
        } catch (JsonProcessingException e) {
            throw new FormatException(where + " is not JSON (" + FormatException.oneLine(e.getOriginalMessage()) + ")", e);
        }
        if (node == null || !node.isArray()) {
            throw new FormatException(where + " is " + abbreviate(raw) + ", expected a JSON array of strings");
        }
        if (node.size() != classes) {
            throw new FormatException(where + " has " + node.size() + " names, but the model has " + classes
                    + " classes");
        }
        List<String> names = new ArrayList<>(classes);
        for (int i = 0; i < classes; i++) {
            if (!node.get(i).isTextual()) {
                throw new FormatException(where + "[" + i + "] is " + node.get(i) + ", expected a string");
            }
            names.add(node.get(i).asText());
        }
        return List.copyOf(names);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
