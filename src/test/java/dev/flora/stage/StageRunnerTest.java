package dev.flora.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A stage that is done is skipped, and what a kill after its final output left is cleared. */
class StageRunnerTest {
    @TempDir
    Path dir;

    /** A stage whose final output is already on disk. */
    private record Finished(Path dir) implements Stage<String> {
        @Override
        public boolean isDone() {
            return true;
        }

        @Override
        public boolean canResume() {
            return true;
        }

        @Override
        public String run(boolean resume, int budget) {
            throw new AssertionError("a finished stage is not run again");
        }

        @Override
        public String finished() {
            return "read back";
        }
    }

    @Test
    void aSkippedStageLosesTheTemporaryFileOfAWriteKilledAfterItsOutput() throws Exception {
        // found by tools/crashtest.sh compress: a kill inside search-lrat's best.txt write
        Path stale = Files.writeString(dir.resolve(".best.txt.4146463404039004318.tmp"), "half");
        Path output = Files.writeString(dir.resolve("best.txt"), "whole");
        String r = new StageRunner(new PrintStream(new ByteArrayOutputStream())).run("search", new Finished(dir));
        assertEquals("read back", r);
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(output));
    }
}
