package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.flora.engine.nn.ViTConfig;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** The architectures {@code flora pretrain} builds from scratch, by their names in configs and flags. */
public enum ArchPreset {
    VIT_FMNIST("vit-fmnist", ViTConfig::vitFmnist),
    DEIT_TINY("deit-tiny", ViTConfig::deitTiny),
    DEIT_SMALL("deit-small", ViTConfig::deitSmall),
    DEIT_BASE("deit-base", ViTConfig::deitBase);

    private final String label;
    private final Supplier<ViTConfig> config;

    ArchPreset(String label, Supplier<ViTConfig> config) {
        this.label = label;
        this.config = config;
    }

    @JsonValue
    public String label() {
        return label;
    }

    public ViTConfig config() {
        return config.get();
    }

    @JsonCreator
    public static ArchPreset parse(String s) {
        for (ArchPreset p : values()) {
            if (p.label.equals(s)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown arch '" + s + "' (expected "
                + Arrays.stream(values()).map(ArchPreset::label).collect(Collectors.joining(", ")) + ")");
    }
}
