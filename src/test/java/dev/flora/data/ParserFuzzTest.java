package dev.flora.data;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.FuzzRules;
import dev.flora.image.ImageFiles;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coverage-guided fuzzing of the dataset readers: IDX (raw and gzip), CIFAR binaries and image
 * files through {@link ImageFiles#read}. The default build replays the committed inputs under
 * {@code ParserFuzzTestInputs/<method>/}; {@code tools/fuzz.sh} fuzzes each method (JAZZER_FUZZ=1).
 */
class ParserFuzzTest {
    private static final int CIFAR100_RECORD = 2 + 3 * 32 * 32;
    @TempDir
    static Path dir;

    @FuzzTest(maxDuration = "10s")
    void idx(byte[] data) throws Exception {
        FuzzRules.check("fuzz.idx", data.length, () -> IdxReader.read(new ByteArrayInputStream(data), "fuzz.idx"),
                FormatException.class);
    }

    /** The input is a CIFAR-100 train.bin beside a valid one-record test.bin. */
    @FuzzTest(maxDuration = "10s")
    void cifar(byte[] data) throws Exception {
        Files.write(dir.resolve("train.bin"), data);
        Files.write(dir.resolve("test.bin"), new byte[CIFAR100_RECORD]);
        // messages name train.bin or the dataset (dir/train), both under dir
        FuzzRules.check(dir.toString(), data.length, () -> CifarReader.load(dir), FormatException.class);
    }

    @FuzzTest(maxDuration = "10s")
    void image(byte[] data) throws Exception {
        Path file = dir.resolve("fuzz.png");
        FuzzRules.checkFile(file, data, () -> ImageFiles.read(file), FormatException.class);
    }
}
