package dev.flora.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flora.config.Configs;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The config options every pipeline command shares, and how they layer: the command's defaults,
 * then {@code --config FILE}, then its setting flags ({@link ConfigFlags}), then {@code --set}.
 * {@code --print-config} shows the result.
 */
public final class ConfigOptions {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML file of settings, snake_case keys as "
            + "--print-config writes them.")
    Path file;

    @Mixin
    SetOptions sets;

    @Option(names = "--print-config", description = "Print the resolved config as YAML and exit.")
    boolean print;

    private ConfigFlags flags;

    /** The setting flags of this command (set by {@link FloraCli} before parsing). */
    void bind(ConfigFlags commandFlags) {
        this.flags = commandFlags;
    }

    /** The config from the defaults and every layer the user gave. */
    <T> T resolve(Class<T> type, T defaults) {
        ObjectNode layer = file == null ? Configs.YAML.createObjectNode() : Configs.readLayer(file);
        ObjectNode given = flags == null ? Configs.YAML.createObjectNode() : flags.layer();
        return Configs.merge(type, defaults, file == null ? "flags" : file.toString(), layer, given, sets.layer());
    }

    /**
     * With {@code --resume} the run's saved config, and any setting given beside it is an error naming it
     * (a resumed run must not silently change course); otherwise {@link #resolve}.
     */
    <T> T resolveOrResume(boolean resume, Supplier<T> saved, Class<T> type, T defaults) {
        if (!resume) {
            return resolve(type, defaults);
        }
        List<String> given = flags == null ? List.of() : flags.givenNames();
        if (file != null || !given.isEmpty() || !sets.isEmpty()) {
            String what = file != null ? "--config" : !sets.isEmpty() ? "--set"
                    : "the setting flags (" + String.join(", ", given) + ")";
            throw new IllegalArgumentException("--resume continues the run with its saved config; drop " + what);
        }
        return saved.get();
    }

    /** Prints {@code config} as YAML when --print-config was given; true if it did (the command then exits). */
    boolean printed(Object config) {
        if (print) {
            System.out.print(Configs.toYaml(config));
        }
        return print;
    }

    /** The step budget of a {@code --...-this-run N} flag: unlimited when absent, and N must be positive. */
    static int thisRun(Integer n, String flag) {
        if (n == null) {
            return Integer.MAX_VALUE;
        }
        if (n <= 0) {
            throw new IllegalArgumentException(flag + " must be positive, got " + n);
        }
        return n;
    }
}
