package dev.flora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.data.ImageFolderFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 27, items 1, 7, 8, 9 and 10 on the CLI: an output location that cannot be written, settings
 * that contradict each other, an empty validation split, leftovers of killed writes, and which of
 * two bad flags is reported; each exits 2 with one line naming it. (The commands that need a
 * trained supernet, search and export, are checked in PipelineCliTest.)
 */
class BadOutputAndSettingsCliTest {
    @TempDir
    Path dir;

    static CliRunner.Run run(String... args) {
        return CliRunner.run(args);
    }

    private static void assertOneLine(CliRunner.Run r, String... parts) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        for (String p : parts) {
            assertTrue(r.error().contains(p), p + " in " + r.err());
        }
    }

    @Test
    void anOutputThatIsAFileIsNamedForEveryCommandThatWritesARunDirectory() throws Exception {
        Path file = Files.writeString(dir.resolve("hostname"), "not a directory\n");
        String out = file.toString();
        assertOneLine(run("pretrain", "--data", "fmnist-subset", "--out", out, "--epochs", "1"),
                "cannot create the directory " + out);
        assertOneLine(run("supernet", "--data", "fmnist-subset", "--out", out, "--epochs", "1"), out);
        assertOneLine(run("filter", "--data", "fmnist-subset", "--out", out), out);
        assertOneLine(run("compress", "--data", "fmnist-subset", "--out", out), out);
        assertOneLine(run("ablation", "--data", "fmnist-subset", "--out", out), out);
        assertOneLine(run("demo", "--out", out), out);
        assertEquals("not a directory\n", Files.readString(file), "the file is left alone");
    }

    @Test
    void anOutputUnderAFileOrInAReadOnlyDirectoryIsNamed() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "x");
        Path under = file.resolve("run");
        assertOneLine(run("pretrain", "--data", "fmnist-subset", "--out", under.toString(), "--epochs", "1"),
                "cannot create the directory " + under, "Not a directory");

        Path readOnly = Files.createDirectory(dir.resolve("ro"));
        assertTrue(readOnly.toFile().setWritable(false, false));
        try {
            Assumptions.assumeFalse(Files.isWritable(readOnly), "root writes into read-only directories");
            Path run = readOnly.resolve("run");
            assertOneLine(run("pretrain", "--data", "fmnist-subset", "--out", run.toString(), "--epochs", "1"),
                    "cannot create the directory " + run, "permission denied");
        } finally {
            readOnly.toFile().setWritable(true, false);
        }
    }

    @Test
    void evolutionSettingsThatContradictEachOtherAreRefused() {
        // top_k 50 parents out of a population of 4 was accepted before
        assertOneLine(run("search", "--supernet", "nowhere.safetensors", "--data", "fmnist-subset", "--out",
                dir.resolve("s").toString(), "--top-k", "50", "--population", "4"), "top_k (50)", "population (4)");
        assertOneLine(run("search", "--supernet", "nowhere.safetensors", "--data", "fmnist-subset", "--out",
                dir.resolve("s").toString(), "--top-k", "1", "--crossovers", "3"), "crossovers need at least two");
    }

    @Test
    void anUnknownSearchFitnessIsRefusedWithTheChoices() {
        assertOneLine(run("search", "--supernet", "nowhere.safetensors", "--data", "fmnist-subset", "--out",
                dir.resolve("s").toString(), "--fitness", "accuracy"), "unknown search fitness 'accuracy'",
                "top1|loss|kl");
        assertTrue(!Files.exists(dir.resolve("s")), "nothing is written");
    }

    @Test
    void compressRefusesFlopsBoundsNoSubnetMeetsBeforeItWritesOrTrains() {
        Path out = dir.resolve("c");
        assertOneLine(run("compress", "--data", "fmnist-subset", "--out", out.toString(), "--set",
                "search.min_flops=0.1", "--set", "search.max_flops=0.2"), "admit no architecture",
                "the search space spans");
        assertTrue(!Files.exists(out), "nothing is written");
    }

    @Test
    void aTrainingPrecisionIsCheckedWhereItIsSetAndRefusedWhereItWouldBeIgnored() {
        assertOneLine(run("pretrain", "--precision", "fp8", "--print-config"), "precision fp8",
                "expected fp32, tf32 or bf16");
        assertOneLine(run("supernet", "--set", "precision=half", "--print-config"), "precision half");
        CliRunner.Run bf16 = run("supernet", "--precision", "bf16", "--print-config");
        assertEquals(0, bf16.code(), bf16.err());
        assertTrue(bf16.out().contains("precision: bf16"), bf16.out());
        assertOneLine(run("compress", "--set", "supernet.precision=bf16", "--print-config"),
                "supernet.precision bf16", "compress trains its supernets in fp32");
        assertOneLine(run("ablation", "--set", "supernet.precision=bf16", "--print-config"),
                "the ablation trains its supernets in fp32");
    }

    @Test
    void aFractionForAnIntegerAndAKeyGivenTwiceAreRefusedInYaml() throws Exception {
        Path fraction = Files.writeString(dir.resolve("fraction.yaml"), "loop:\n  epochs: 1.7\n");
        assertOneLine(run("pretrain", "--config", fraction.toString(), "--print-config"), fraction.toString());
        Path twice = Files.writeString(dir.resolve("twice.yaml"), "loop:\n  epochs: 3\n  epochs: 5\n");
        assertOneLine(run("pretrain", "--config", twice.toString(), "--print-config"), twice.toString(), "epochs");
        Path fine = Files.writeString(dir.resolve("fine.yaml"), "loop:\n  epochs: 3\n  lr: 1\n");
        CliRunner.Run r = run("pretrain", "--config", fine.toString(), "--print-config");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("epochs: 3"), r.out());
    }

    @Test
    void aHeadsFlagContradictingABundledModelsMetadataIsRefused() {
        // fixed with the checkpoint work (ModelIO.numHeads); kept as the regression test
        assertOneLine(run("eval", "--data", "fmnist-subset", "--num-heads", "8"), "--num-heads 8");
    }

    @Test
    void aTrainingFileTooSmallForAValidationSplitStopsEveryStageThatNeedsOne() throws Exception {
        Path data = ImageFolderFixture.trainVal(dir.resolve("nine"), 3, 1, 4);
        String spec = data.toString();
        String why = "the validation split is empty";
        assertOneLine(run("eval", "--data", spec, "--split", "val"), why, "9 training images");
        Path out = dir.resolve("runs");
        assertOneLine(run("pretrain", "--data", spec, "--out", out.resolve("p").toString(), "--epochs", "1",
                "--batch-size", "2"), why);
        assertOneLine(run("supernet", "--data", spec, "--out", out.resolve("s").toString(), "--epochs", "1"), why);
        assertOneLine(run("filter", "--data", spec, "--out", out.resolve("f").toString()), why);
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void aResumedRunRemovesTheTemporaryFilesOfAKilledCheckpointWrite() throws Exception {
        Path out = dir.resolve("run");
        String[] tiny = {"pretrain", "--data", "fmnist-subset", "--out", out.toString(), "--epochs", "2",
            "--embed-dim", "16", "--depth", "1", "--num-heads", "2", "--patch-size", "7", "--mlp-ratio", "1",
            "--train-limit", "256", "--batch-size", "64", "--epochs-this-run", "1"};
        assertEquals(0, run(tiny).code());
        // what kill -9 inside AtomicFiles.write leaves behind
        Path stale = Files.writeString(out.resolve(".checkpoint.safetensors.8157.tmp"), "half a checkpoint");
        CliRunner.Run r = run("pretrain", "--out", out.toString(), "--resume");
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(stale), "stale temporary file removed");
        try (Stream<Path> s = Files.list(out)) {
            List<String> left = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
            assertEquals(List.of(), left);
        }
    }

    @Test
    void anUnknownOptionIsReportedBeforeAMissingRequiredOne() {
        CliRunner.Run r = run("eval", "--bogus");
        assertOneLine(r, "--bogus");
        assertFalse(r.error().contains("--data"), r.err());
    }
}
