package dev.flora.latency;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.FuzzRules;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.space.Candidate;
import dev.flora.space.SearchSpace;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coverage-guided fuzzing of a latency table ({@link LatencyTable#read}) on its way into the
 * search: read, compared with a machine key, checked against a small search space of vit-fmnist
 * by {@link LatencyPredictor}, and asked to price the smallest and largest subnet, which must come
 * out finite. Inputs replayed from {@code LatencyTableFuzzTestInputs/table/}; the valid seed is
 * {@link StubTables} for {@link #SPACE} (written by {@code LatencyTableFuzzSeeds}).
 */
class LatencyTableFuzzTest {
    /** mlp.fc1 at half and full rank in each of vit-fmnist's six blocks: a seed of a few KB. */
    static final SearchSpace SPACE = SearchSpace.full(ViTConfig.vitFmnist(), List.of("mlp.fc1"), new double[] {0.5, 1});
    static final Machine MACHINE = new Machine("Fuzz CPU", 2, "amd64", "cpu", 2);

    @TempDir
    static Path dir;

    @FuzzTest(maxDuration = "10s")
    void table(byte[] data) throws Exception {
        Path file = dir.resolve("table.json");
        FuzzRules.checkFile(file, data, () -> {
            LatencyTable t = LatencyTable.read(file);
            t.machine().difference(MACHINE).ifPresent(String::length);
            LatencyPredictor p = new LatencyPredictor(t, SPACE, file.toString());
            int blocks = SPACE.depth();
            for (Candidate c : List.of(Candidate.uniform(blocks, 1, 0), Candidate.uniform(blocks, 1, 1))) {
                double ms = p.millis(c);
                if (!Double.isFinite(ms)) {
                    throw new AssertionError("predicted " + ms + " ms for " + c.encode());
                }
            }
        }, FormatException.class);
    }
}
