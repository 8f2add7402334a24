package dev.flora.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.io.FormatException;
import dev.flora.report.ParetoFront;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A finished seed's file gives back what was written, and a file of another test set or no file at all is refused. */
class SearchedSeedTest {
    @TempDir
    Path dir;

    @Test
    void aSeedsSearchedSubnetsAndTheirOutcomesComeBackAsWritten() {
        int n = 10_003;
        boolean[] a = outcomes(n, 1);
        boolean[] b = outcomes(n, 2);
        Ablation.Row row = new Ablation.Row("lrat", 0.35, "[[1, 2, 3]]", 12_345_678L, 89.5, 88.25);
        ParetoFront.Point grid = new ParetoFront.Point("uniform 0.5", 20_000_000L, 90.1);
        ParetoFront.Point matched = new ParetoFront.Point("uniform at 0.35", 12_000_000L, 87.9);
        SearchedSeed seed = new SearchedSeed(List.of(new SearchedSeed.Searched(row, a)), List.of(grid),
                List.of(new SearchedSeed.Matched(0.35, matched, b)), Map.of("supernet-lrat-seed2", 1234.5));
        Path file = SearchedSeed.file(dir, "-seed2");
        assertEquals("searched-seed2.json", file.getFileName().toString());
        seed.write(file, n);

        SearchedSeed back = SearchedSeed.read(file, n).orElseThrow();
        assertEquals(row, back.searched().get(0).row());
        assertArrayEquals(a, back.searched().get(0).correct());
        assertEquals(List.of(grid), back.uniformGrid());
        assertEquals(0.35, back.uniformMatched().get(0).target());
        assertEquals(matched, back.uniformMatched().get(0).point());
        assertArrayEquals(b, back.uniformMatched().get(0).correct());
        assertEquals(Map.of("supernet-lrat-seed2", 1234.5), back.stageSeconds());
    }

    @Test
    void noFileIsNoSeedAndAnotherTestSetOrABrokenFileIsRefusedNamingIt() throws Exception {
        Path file = SearchedSeed.file(dir, "");
        assertTrue(SearchedSeed.read(file, 100).isEmpty());
        new SearchedSeed(List.of(), List.of(), List.of(), Map.of()).write(file, 100);
        FormatException other = assertThrows(FormatException.class, () -> SearchedSeed.read(file, 200));
        assertTrue(other.getMessage().contains("100 test images, not 200") && other.getMessage().contains("searched.json"),
                other.getMessage());
        Files.writeString(file, "{\"testImages\": 100, \"searched\": [");
        FormatException broken = assertThrows(FormatException.class, () -> SearchedSeed.read(file, 100));
        assertTrue(broken.getMessage().contains("delete it to search this seed again"), broken.getMessage());
    }

    private static boolean[] outcomes(int n, long seed) {
        Random r = new Random(seed);
        boolean[] c = new boolean[n];
        for (int i = 0; i < n; i++) {
            c[i] = r.nextDouble() < 0.9;
        }
        // the last image wrong: a bit set drops trailing zeros, which the count must bring back
        c[n - 1] = false;
        return c;
    }
}
