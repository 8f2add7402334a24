package dev.flora.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigParseErrorsTest {
    @TempDir
    Path dir;

    /** Issue 27 item 10: a YAML syntax error is one line naming the file, the line and the column. */
    @Test
    void malformedYamlIsOneLineWithItsPosition() throws IOException {
        String[][] cases = {{"loop:\n  epochs: 3\n  lr: [0.1,\n", "line 4"}, {"loop:\n  epochs: 3\n lr: 1\n", "line 3"},
            {"a: b: c\n", "line 1, column 5"}, {"loop: {epochs: 3\n", "line 2"}, {"\t- x\n", "line 1"}};
        for (String[] c : cases) {
            Path file = dir.resolve("bad.yaml");
            Files.writeString(file, c[0]);
            String m = assertThrows(FormatException.class, () -> Configs.readLayer(file)).getMessage();
            assertEquals(1, m.lines().count(), m);
            assertTrue(m.startsWith(file + ": not valid YAML at " + c[1]), m);
        }
    }
}
