package dev.flora.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.flora.engine.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * Layered configuration for records with Jackson names: defaults, then a YAML file, then
 * flags, each layer replacing only the keys it sets. Unknown keys are errors that name the key.
 */
public final class Configs {
    public static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private Configs() {
    }

    /** Reads a YAML file as an object node; errors name the file. */
    public static ObjectNode readLayer(Path file) {
        try {
            var node = YAML.readTree(Files.readString(file));
            if (node == null || node.isNull()) {
                return YAML.createObjectNode();
            }
            if (!node.isObject()) {
                throw new FormatException(file + ": expected a YAML mapping of config keys");
            }
            return (ObjectNode) node;
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": config file not found");
        } catch (JsonProcessingException e) {
            throw new FormatException(file + ": not valid YAML (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** A layer from flag values; null values (flags not given) are left out. */
    public static ObjectNode layer(Map<String, Object> values) {
        ObjectNode n = YAML.createObjectNode();
        values.forEach((k, v) -> {
            if (v != null) {
                n.set(k, YAML.valueToTree(v));
            }
        });
        return n;
    }

    /**
     * {@code defaults} overlaid by each layer in turn. Nested sections merge key by key, so a
     * layer states only what differs; a key the defaults do not have is an error naming it.
     */
    public static <T> T merge(Class<T> type, T defaults, String source, ObjectNode... layers) {
        ObjectNode merged = YAML.valueToTree(defaults);
        for (ObjectNode layer : layers) {
            overlay(merged, layer, source, "");
        }
        try {
            return YAML.treeToValue(merged, type);
        } catch (UnrecognizedPropertyException e) {
            throw new FormatException(source + ": unknown config key '" + e.getPropertyName() + "'");
        } catch (JsonProcessingException e) {
            throw new FormatException(source + ": invalid config (" + e.getOriginalMessage() + ")");
        }
    }

    private static void overlay(ObjectNode target, ObjectNode layer, String source, String prefix) {
        for (Iterator<Map.Entry<String, JsonNode>> it = layer.fields(); it.hasNext(); ) {
            var e = it.next();
            String key = e.getKey();
            if (!target.has(key)) {
                throw new FormatException(source + ": unknown config key '" + prefix + key + "' (known: "
                        + String.join(", ", (Iterable<String>) target::fieldNames) + ")");
            }
            JsonNode current = target.get(key);
            if (current instanceof ObjectNode sub && e.getValue() instanceof ObjectNode subLayer) {
                overlay(sub, subLayer, source, prefix + key + ".");
            } else {
                target.set(key, e.getValue());
            }
        }
    }

    public static String toYaml(Object config) {
        try {
            return YAML.writeValueAsString(config);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static <T> T fromYaml(String yaml, Class<T> type, String source) {
        try {
            return YAML.readValue(yaml, type);
        } catch (JsonProcessingException e) {
            throw new FormatException(source + ": invalid saved config (" + e.getOriginalMessage() + ")");
        }
    }
}
