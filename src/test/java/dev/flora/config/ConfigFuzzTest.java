package dev.flora.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.FuzzRules;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coverage-guided fuzzing of YAML configs: the file is read as a layer and merged over the
 * training defaults. A record's own range check throws IllegalArgumentException naming the file
 * (its documented contract, exit 2 like FormatException). Inputs replayed from
 * {@code ConfigFuzzTestInputs/yaml/}; {@code tools/fuzz.sh} fuzzes.
 */
class ConfigFuzzTest {
    @TempDir
    static Path dir;

    @FuzzTest(maxDuration = "10s")
    void yaml(byte[] data) throws Exception {
        Path file = dir.resolve("fuzz.yaml");
        FuzzRules.checkFile(file, data, () -> Configs.merge(TrainConfig.class, TrainConfig.defaults(),
                file.toString(), Configs.readLayer(file)), FormatException.class, IllegalArgumentException.class);
    }
}
