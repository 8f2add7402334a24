package dev.flora.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    /** A stage that works about 20 ms per run and is done after {@code runs} of them, failing before the last. */
    private static final class Slow implements Stage<String> {
        private final Path dir;
        private int left;

        Slow(Path dir, int runs) {
            this.dir = dir;
            this.left = runs;
        }

        @Override
        public Path dir() {
            return dir;
        }

        @Override
        public boolean isDone() {
            return left == 0;
        }

        @Override
        public boolean canResume() {
            return true;
        }

        @Override
        public String run(boolean resume, int budget) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            if (--left > 0) {
                throw new IllegalStateException("stopped");
            }
            return "ran";
        }

        @Override
        public String finished() {
            return "read back";
        }
    }

    @Test
    void aStagesSecondsAddUpOverTheInvocationsThatRanItAndAreReportedOnceItIsDone() throws Exception {
        Slow stage = new Slow(dir, 2);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        StageRunner first = new StageRunner(quiet);
        assertThrows(IllegalStateException.class, () -> first.run("supernet", stage));
        double once = first.seconds().get("supernet");
        assertTrue(once >= 0.02, "a failed invocation's work counts too: " + once);
        StageRunner second = new StageRunner(quiet);
        assertEquals("ran", second.run("supernet", stage));
        double twice = second.seconds().get("supernet");
        assertTrue(twice > once + 0.015, once + " then " + twice);
        StageRunner third = new StageRunner(quiet);
        assertEquals("read back", third.run("supernet", stage));
        assertEquals(twice, third.seconds().get("supernet"), 1e-3, "a done stage reports what it took");
        assertTrue(Files.exists(dir.resolve(StageRunner.SECONDS_FILE)));
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
