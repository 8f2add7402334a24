package dev.flora.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.io.FormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Layered configuration of the settings records: defaults, then a YAML file, then flags, each
 * layer replacing only the keys it sets. YAML keys are the records' component names in snake_case,
 * sections nest as the records do. Unknown keys are errors that name the key, except the flat keys
 * of earlier versions (a section's key given one level up, {@code epochs} for {@code loop.epochs},
 * or joined to its section, {@code distill_weight} for {@code distill.weight}), which move to
 * their section with a note naming the new key.
 */
public final class Configs {
    // a key given twice and 1.7 for an integer are mistakes, not the last value and 1
    public static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION))
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .registerModule(engineValues());

    private Configs() {
    }

    /** The engine's values that settings hold, written as users type them ({@code bf16}, not {@code BF16}). */
    private static SimpleModule engineValues() {
        return new SimpleModule("flora-engine-values")
                .addSerializer(Precision.class, new StdSerializer<>(Precision.class) {
                    @Override
                    public void serialize(Precision p, JsonGenerator gen, SerializerProvider provider)
                            throws IOException {
                        gen.writeString(p.label());
                    }
                })
                .addDeserializer(Precision.class, new StdDeserializer<>(Precision.class) {
                    @Override
                    public Precision deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
                        return Precision.parse(p.getValueAsString(), "precision");
                    }
                });
    }

    /** Reads a YAML file as an object node; errors name the file. */
    public static ObjectNode readLayer(Path file) {
        try {
            return parseLayer(Files.readString(file), file.toString());
        } catch (NoSuchFileException e) {
            throw new FormatException(file + ": config file not found");
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** Reads a YAML resource shipped with flora-j as an object node. */
    public static ObjectNode readLayer(URL resource) {
        try (InputStream in = resource.openStream()) {
            return parseLayer(new String(in.readAllBytes(), StandardCharsets.UTF_8), resource.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode parseLayer(String yaml, String source) {
        try {
            var node = YAML.readTree(yaml);
            if (node == null || node.isNull() || node.isMissingNode()) {
                return YAML.createObjectNode();
            }
            if (!node.isObject()) {
                throw new FormatException(source + ": expected a YAML mapping of config keys");
            }
            return (ObjectNode) node;
        } catch (JsonProcessingException e) {
            throw new FormatException(source + ": not valid YAML " + syntaxError(e));
        }
    }

    /**
     * "at line L, column C: problem (context)" in one line; SnakeYAML's own message spans five,
     * with the offending line quoted and a caret under the column.
     */
    private static String syntaxError(JsonProcessingException e) {
        if (e.getCause() instanceof MarkedYAMLException y && y.getProblemMark() != null) {
            String context = y.getContext() == null ? "" : " (" + printable(y.getContext()) + ")";
            return "at line " + (y.getProblemMark().getLine() + 1) + ", column " + (y.getProblemMark().getColumn() + 1)
                    + ": " + printable(y.getProblem()) + context;
        }
        String first = printable(String.valueOf(e.getOriginalMessage()).lines().findFirst().orElse("").trim());
        return e.getLocation() == null ? "(" + first + ")"
                : "at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ": " + first;
    }

    /** {@code s} on one line: SnakeYAML quotes the offending character as is, a newline or a tab included. */
    private static String printable(String s) {
        return String.valueOf(s).replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t").replaceAll("\\p{Cntrl}", "?");
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
        return read(merged, type, source);
    }

    private static <T> T read(JsonNode tree, Class<T> type, String source) {
        try {
            return YAML.treeToValue(tree, type);
        } catch (UnrecognizedPropertyException e) {
            throw new FormatException(source + ": unknown config key '" + printable(e.getPropertyName()) + "'");
        } catch (ValueInstantiationException e) {
            // A record's own range check: its message already names the key.
            Throwable cause = e.getCause();
            if (cause instanceof IllegalArgumentException bad) {
                throw new IllegalArgumentException(source + ": " + printable(bad.getMessage()), bad);
            }
            throw new FormatException(source + ": invalid config (" + printable(e.getOriginalMessage()) + ")");
        } catch (JsonProcessingException e) {
            throw new FormatException(source + ": invalid config (" + printable(e.getOriginalMessage()) + ")");
        }
    }

    private static void overlay(ObjectNode target, ObjectNode layer, String source, String prefix) {
        for (Iterator<Map.Entry<String, JsonNode>> it = layer.fields(); it.hasNext(); ) {
            var e = it.next();
            String key = e.getKey();
            if (!target.has(key)) {
                String moved = sectionOf(target, key);
                if (moved == null) {
                    throw new FormatException(source + ": unknown config key '" + printable(prefix + key) + "' (known: "
                            + String.join(", ", (Iterable<String>) target::fieldNames) + ")");
                }
                String[] path = moved.split("\\.");
                System.err.println("note: " + source + ": config key '" + prefix + key + "' is now '" + prefix + moved
                        + "'");
                ObjectNode relocated = YAML.createObjectNode();
                relocated.putObject(path[0]).set(path[1], e.getValue());
                overlay(target, relocated, source, prefix);
                continue;
            }
            JsonNode current = target.get(key);
            if (current instanceof ObjectNode sub && e.getValue() instanceof ObjectNode subLayer) {
                overlay(sub, subLayer, source, prefix + key + ".");
            } else {
                target.set(key, e.getValue());
            }
        }
    }

    /**
     * Where a flat key of an earlier version lives now, as "section.key": the one section that has
     * it, or the section its prefix names ({@code distill_weight}: {@code distill.weight}); null if none.
     */
    private static String sectionOf(ObjectNode target, String key) {
        String found = null;
        for (Iterator<Map.Entry<String, JsonNode>> it = target.fields(); it.hasNext(); ) {
            var section = it.next();
            if (!(section.getValue() instanceof ObjectNode sub)) {
                continue;
            }
            String name = section.getKey();
            if (sub.has(key)) {
                if (found != null) {
                    return null;
                }
                found = name + "." + key;
            } else if (key.startsWith(name + "_") && sub.has(key.substring(name.length() + 1))) {
                return name + "." + key.substring(name.length() + 1);
            }
        }
        return found;
    }

    public static String toYaml(Object config) {
        try {
            return YAML.writeValueAsString(config);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A config saved by a run (in its directory or a checkpoint), read over {@code defaults} so that
     * a run saved with the flat keys of an earlier version still resumes.
     */
    public static <T> T fromYaml(String yaml, Class<T> type, T defaults, String source) {
        return merge(type, defaults, source, parseLayer(yaml, source));
    }

    /** The YAML that {@code yaml} (a saved config, possibly with earlier keys) reads as today. */
    public static <T> String normalized(String yaml, Class<T> type, T defaults, String source) {
        return toYaml(fromYaml(yaml, type, defaults, source));
    }
}
