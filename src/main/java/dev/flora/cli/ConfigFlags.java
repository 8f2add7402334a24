package dev.flora.cli;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flora.config.Configs;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Command-line flags made from a settings record, so that a setting is declared once: its YAML
 * key is the record component's name, its help the component's {@link JsonPropertyDescription},
 * its default the command's defaults record, and its flag follows from its key ({@code loop.lr}:
 * {@code --lr}, {@code distill.weight}: {@code --distill-weight}). The flags form one config
 * layer between the config file and {@code --set}; a flag not given is not in it.
 */
final class ConfigFlags {
    /** Sections whose keys are flags as they are; other sections prefix their name. */
    private static final Set<String> PLAIN_SECTIONS = Set.of("loop", "space", "shape", "evolution");
    private static final PropertyNamingStrategies.NamingBase SNAKE =
            (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE;

    private record Flag(OptionSpec option, List<String> path) {
    }

    private final Class<?> type;
    private final JsonNode defaults;
    private final List<Flag> flags = new ArrayList<>();
    private CommandSpec spec;

    private ConfigFlags(Class<?> type, Object defaults) {
        this.type = type;
        this.defaults = Configs.YAML.valueToTree(defaults);
    }

    /** A flag for every key of {@code type}, sections included: the flags of a single stage. */
    static ConfigFlags everyKey(Class<?> type, Object defaults) {
        ConfigFlags f = new ConfigFlags(type, defaults);
        f.addLeaves(type, List.of(), true);
        return f;
    }

    /** A flag for each top-level key that is not a section: the flags of a pipeline of stages. */
    static ConfigFlags topLevel(Class<?> type, Object defaults) {
        ConfigFlags f = new ConfigFlags(type, defaults);
        f.addLeaves(type, List.of(), false);
        return f;
    }

    /** No flags: the settings come from the defaults, {@code --config} and {@code --set} alone. */
    static ConfigFlags none(Class<?> type, Object defaults) {
        return new ConfigFlags(type, defaults);
    }

    /** Adds {@code flag} for the nested key {@code dottedPath} (e.g. {@code --supernet-epochs}). */
    ConfigFlags shortcut(String flag, String dottedPath) {
        List<String> path = List.of(dottedPath.split("\\."));
        Class<?> owner = type;
        for (int i = 0; i < path.size() - 1; i++) {
            owner = component(owner, path.get(i)).getType();
        }
        String prefix = path.get(0) + ": ";
        flags.add(new Flag(option(flag, component(owner, path.get(path.size() - 1)), path, prefix), path));
        return this;
    }

    private void addLeaves(Class<?> record, List<String> at, boolean sections) {
        for (RecordComponent c : record.getRecordComponents()) {
            List<String> path = new ArrayList<>(at);
            path.add(key(c));
            if (c.getType().isRecord()) {
                if (sections) {
                    addLeaves(c.getType(), path, true);
                }
                continue;
            }
            flags.add(new Flag(option(flagName(path), c, path, ""), path));
        }
    }

    private OptionSpec option(String name, RecordComponent c, List<String> path, String prefix) {
        JsonPropertyDescription d = c.getAccessor().getAnnotation(JsonPropertyDescription.class);
        if (d == null) {
            throw new IllegalStateException(String.join(".", path) + " has no description for its flag");
        }
        String help = prefix + d.value() + " (default: " + shown(path) + ")";
        OptionSpec.Builder b = OptionSpec.builder(name).description(help.replace("%", "%%"));
        Class<?> t = c.getType();
        if (t == boolean.class || t == Boolean.class) {
            b.type(Boolean.class).negatable(true).arity("0");
        } else if (t == int.class || t == Integer.class) {
            b.type(Integer.class).paramLabel("N");
        } else if (t == long.class || t == Long.class) {
            b.type(Long.class).paramLabel("N");
        } else if (t == double.class || t == Double.class) {
            b.type(Double.class).paramLabel("X");
        } else if (t == double[].class || isListOfDouble(c.getGenericType())) {
            b.type(List.class).auxiliaryTypes(Double.class).splitRegex(",").splitRegexSynopsisLabel(",").paramLabel("X");
        } else if (t == String.class || t.isEnum()) {
            b.type(String.class).paramLabel("VALUE");
        } else {
            throw new IllegalStateException(String.join(".", path) + ": no flag for a " + t.getSimpleName());
        }
        return b.build();
    }

    private static boolean isListOfDouble(Type t) {
        return t instanceof ParameterizedType p && p.getRawType() == List.class
                && p.getActualTypeArguments()[0] == Double.class;
    }

    /** The default of the key at {@code path} as help shows it. */
    private String shown(List<String> path) {
        JsonNode n = defaults;
        for (String k : path) {
            n = n.path(k);
        }
        if (n.isNull() || n.isMissingNode()) {
            return "none";
        }
        if (n.isArray()) {
            return StreamSupport.stream(n.spliterator(), false).map(JsonNode::asText)
                    .collect(Collectors.joining(","));
        }
        return n.asText();
    }

    private static String flagName(List<String> path) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < path.size(); i++) {
            if (i == path.size() - 1 || !PLAIN_SECTIONS.contains(path.get(i))) {
                parts.add(path.get(i));
            }
        }
        return "--" + String.join("-", parts).replace('_', '-');
    }

    private static String key(RecordComponent c) {
        return SNAKE.translate(c.getName());
    }

    private static RecordComponent component(Class<?> record, String key) {
        for (RecordComponent c : record.getRecordComponents()) {
            if (key(c).equals(key)) {
                return c;
            }
        }
        throw new IllegalStateException(record.getSimpleName() + " has no key " + key);
    }

    /** Adds the flags to a command before it parses its arguments. */
    void addTo(CommandSpec command) {
        this.spec = command;
        for (Flag f : flags) {
            command.addOption(f.option());
        }
    }

    /** The flags given, as a config layer. */
    ObjectNode layer() {
        ObjectNode root = Configs.YAML.createObjectNode();
        for (Flag f : given()) {
            ObjectNode node = root;
            for (String k : f.path().subList(0, f.path().size() - 1)) {
                node = node.has(k) ? (ObjectNode) node.get(k) : node.putObject(k);
            }
            node.set(f.path().get(f.path().size() - 1), Configs.YAML.valueToTree((Object) f.option().getValue()));
        }
        return root;
    }

    /** The names of the flags given. */
    List<String> givenNames() {
        return given().stream().map(f -> f.option().longestName()).toList();
    }

    private List<Flag> given() {
        if (spec == null) {
            return List.of();
        }
        ParseResult parsed = spec.commandLine().getParseResult();
        return flags.stream().filter(f -> parsed != null && parsed.hasMatchedOption(f.option())).toList();
    }

    /** The flag names, for tests and help. */
    List<String> names() {
        return flags.stream().map(f -> f.option().longestName().toLowerCase(Locale.ROOT)).toList();
    }
}
