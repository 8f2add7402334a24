package dev.flora.space;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.FuzzRules;
import dev.flora.engine.nn.ViTConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coverage-guided fuzzing of the search-space JSON ({@link SearchSpace#read}) and of architecture
 * codes ({@link Candidate#decode}, whose contract is IllegalArgumentException; a decoded code must
 * encode back to itself). Inputs replayed from {@code SpaceFuzzTestInputs/<method>/}.
 */
class SpaceFuzzTest {
    private static final ViTConfig CONFIG = ViTConfig.vitFmnist();

    @TempDir
    static Path dir;

    @FuzzTest(maxDuration = "10s")
    void searchSpaceJson(byte[] data) throws Exception {
        Path file = dir.resolve("fuzz.json");
        FuzzRules.checkFile(file, data, () -> SearchSpace.read(file, CONFIG), FormatException.class);
    }

    @FuzzTest(maxDuration = "10s")
    void architectureCode(byte[] data) throws Exception {
        String code = new String(data, StandardCharsets.UTF_8);
        FuzzRules.check("candidate '", data.length, () -> {
            Candidate c = Candidate.decode(code);
            if (!Candidate.decode(c.encode()).equals(c)) {
                throw new AssertionError(code + " decodes to " + c + ", which does not decode back to itself");
            }
        }, IllegalArgumentException.class);
    }
}
