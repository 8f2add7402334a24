package dev.flora.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flora.config.Configs;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --set key=value}: any config key, nested ones with dots (search.population=30). */
public final class SetOptions {
    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Override any config key (YAML value; nested keys with dots, e.g. search.generations=5; "
                    + "numbers separated by commas are a list, e.g. space.ratios=0.125,0.25,0.5,1).")
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
            value = numberListOrAsIs(value);
            ObjectNode node = root;
            for (int i = 0; i < path.length - 1; i++) {
                node = node.has(path[i]) && node.get(path[i]).isObject() ? (ObjectNode) node.get(path[i])
                        : node.putObject(path[i]);
            }
            node.set(path[path.length - 1], value == null ? Configs.YAML.nullNode() : value);
        }
        return root;
    }

    /**
     * A comma-separated run of numbers as a list, as the list flags take them (YAML would read
     * "0.125,0.25" as one string, which a list key then refuses with an unhelpful message); any
     * other value as it is, so that comma-separated names (allocations=svd-energy,greedy) stay text.
     */
    private static JsonNode numberListOrAsIs(JsonNode value) {
        if (value == null || !value.isTextual() || !value.asText().contains(",")) {
            return value;
        }
        ArrayNode list = Configs.YAML.createArrayNode();
        for (String part : value.asText().split(",", -1)) {
            try {
                list.add(new BigDecimal(part.trim()));
            } catch (NumberFormatException e) {
                return value;
            }
        }
        return list;
    }

    boolean isEmpty() {
        return sets.isEmpty();
    }
}
