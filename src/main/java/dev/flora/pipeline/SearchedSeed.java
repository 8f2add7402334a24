package dev.flora.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.FormatException;
import dev.flora.report.ParetoFront;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one seed of the ablation takes from its supernets: the searched subnets with their
 * per-image test outcomes, the LRAT supernet's uniform-rank subnets on the grid, and the uniform
 * subnet at each searched LRAT subnet's FLOPs with its outcomes. Saved as one small file once the
 * seed is done, so that a resumed run (on another machine too) pairs it against the allocations
 * without its supernets, which are megabytes each and hours to train again. {@code stageSeconds}:
 * the working seconds of the seed's supernet and search stages, by stage name.
 */
record SearchedSeed(List<Searched> searched, List<ParetoFront.Point> uniformGrid, List<Matched> uniformMatched,
                    Map<String, Double> stageSeconds) {

    /** A searched subnet and which test images it got right. */
    record Searched(Ablation.Row row, boolean[] correct) {
    }

    /** The uniform subnet of the LRAT supernet at the FLOPs of the searched one at {@code target}. */
    record Matched(double target, ParetoFront.Point point, boolean[] correct) {
    }

    /** The file of seed {@code suffix} ("" for seed 0, "-seedN" after it) in {@code runDir}. */
    static Path file(Path runDir, String suffix) {
        return runDir.resolve("searched" + suffix + ".json");
    }

    /** The file's content, or empty when there is none; a file that does not parse is an error naming it. */
    static Optional<SearchedSeed> read(Path file, int testImages) {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            Stored s = new ObjectMapper().readValue(file.toFile(), Stored.class);
            if (s.testImages() != testImages) {
                throw new FormatException(file + " holds outcomes on " + s.testImages() + " test images, not "
                        + testImages + "; delete it to search this seed again");
            }
            return Optional.of(new SearchedSeed(
                    s.searched().stream().map(x -> new Searched(x.row(), decode(x.correct(), testImages))).toList(),
                    s.uniformGrid(),
                    s.uniformMatched().stream().map(x -> new Matched(x.target(), x.point(),
                            decode(x.correct(), testImages))).toList(),
                    s.stageSeconds() == null ? Map.of() : s.stageSeconds()));
        } catch (IOException e) {
            throw new FormatException(file + " is not a seed's saved results (" + e.getMessage()
                    + "); delete it to search this seed again");
        }
    }

    void write(Path file, int testImages) {
        Stored s = new Stored(testImages,
                searched.stream().map(x -> new StoredSearched(x.row(), encode(x.correct()))).toList(), uniformGrid,
                uniformMatched.stream().map(x -> new StoredMatched(x.target(), x.point(), encode(x.correct()))).toList(),
                stageSeconds);
        try {
            AtomicFiles.writeString(file, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(s)
                    + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // outcomes as Base64 bit sets: 10 000 test images take 1.7 kB instead of 60 kB of JSON booleans
    private static String encode(boolean[] correct) {
        BitSet bits = new BitSet(correct.length);
        for (int i = 0; i < correct.length; i++) {
            bits.set(i, correct[i]);
        }
        return Base64.getEncoder().encodeToString(bits.toByteArray());
    }

    private static boolean[] decode(String base64, int n) {
        BitSet bits = BitSet.valueOf(Base64.getDecoder().decode(base64));
        boolean[] correct = new boolean[n];
        for (int i = 0; i < n; i++) {
            correct[i] = bits.get(i);
        }
        return correct;
    }

    private record Stored(int testImages, List<StoredSearched> searched, List<ParetoFront.Point> uniformGrid,
                          List<StoredMatched> uniformMatched, Map<String, Double> stageSeconds) {
    }

    private record StoredSearched(Ablation.Row row, String correct) {
    }

    private record StoredMatched(double target, ParetoFront.Point point, String correct) {
    }
}
