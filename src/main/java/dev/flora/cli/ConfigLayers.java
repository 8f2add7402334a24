package dev.flora.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flora.train.Configs;
import java.nio.file.Path;
import java.util.Map;

/** Resolves a command's config: defaults, then --config FILE, then flags, then --set. */
final class ConfigLayers {
    private ConfigLayers() {
    }

    static <T> T resolve(Class<T> type, T defaults, Path configFile, Map<String, Object> flags, SetOptions sets) {
        ObjectNode file = configFile == null ? Configs.YAML.createObjectNode() : Configs.readLayer(configFile);
        return Configs.merge(type, defaults, configFile == null ? "flags" : configFile.toString(), file,
                Configs.layer(flags), sets.layer());
    }

    /** --resume takes the saved config; any setting given with it is an error naming it. */
    static void rejectSettingsOnResume(Path configFile, Map<String, Object> flags, SetOptions sets) {
        ObjectNode given = Configs.layer(flags);
        if (configFile != null || !given.isEmpty() || !sets.isEmpty()) {
            String what = configFile != null ? "--config" : !sets.isEmpty() ? "--set"
                    : "the setting flags (" + String.join(", ", (Iterable<String>) given::fieldNames) + ")";
            throw new IllegalArgumentException("--resume continues the run with its saved config; drop " + what);
        }
    }
}
