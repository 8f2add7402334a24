package dev.flora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flora.config.Configs;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --set key=value}: any config key, nested ones with dots (search.population=30). */
public final class SetOptions {
    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Override any config key (YAML value; nested keys with dots, e.g. search.generations=5).")
    List<String> sets = new ArrayList<>();

    /** The overrides as a config layer. */
    ObjectNode layer() {
        ObjectNode root = Configs.YAML.createObjectNode();
        for (String s : sets) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set " + s + ": expected KEY=VALUE");
            }
            String[] path = s.substring(0, eq).trim().split("\\.");
            JsonNode value;
            try {
                value = Configs.YAML.readTree(s.substring(eq + 1));
            } catch (Exception e) {
                throw new IllegalArgumentException("--set " + s + ": value is not valid YAML");
            }
            ObjectNode node = root;
            for (int i = 0; i < path.length - 1; i++) {
                node = node.has(path[i]) && node.get(path[i]).isObject() ? (ObjectNode) node.get(path[i])
                        : node.putObject(path[i]);
            }
            node.set(path[path.length - 1], value == null ? Configs.YAML.nullNode() : value);
        }
        return root;
    }

    boolean isEmpty() {
        return sets.isEmpty();
    }
}
