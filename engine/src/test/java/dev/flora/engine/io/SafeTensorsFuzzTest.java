package dev.flora.engine.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.flora.engine.cpu.CpuBackend;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coverage-guided fuzzing of the safetensors reader and the ViT loader on top of it. The default
 * build replays the committed inputs under {@code SafeTensorsFuzzTestInputs/}; {@code tools/fuzz.sh}
 * fuzzes (JAZZER_FUZZ=1). Each input is written to a file, opened, every tensor read, then loaded as a model.
 */
class SafeTensorsFuzzTest {
    private static final CpuBackend BACKEND = new CpuBackend();
    @TempDir
    static Path dir;

    @FuzzTest(maxDuration = "10s")
    void openReadAndLoad(byte[] data) throws Exception {
        Path file = dir.resolve("fuzz.safetensors");
        FuzzRules.checkFile(file, data, () -> {
            SafeTensors st = SafeTensors.open(file);
            for (String name : st.entries().keySet()) {
                st.read(name);
            }
            ModelIO.load(file, BACKEND, OptionalInt.of(2));
        }, FormatException.class);
    }
}
