package dev.flora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.allocation.AllocationReport;
import dev.flora.allocation.AllocationRun;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code flora allocate} end to end on the small golden backbone: the model it writes, its report, its errors. */
class AllocateCommandTest {
    @TempDir
    static Path dir;

    static String backbone;

    @BeforeAll
    static void findTheBackbone() throws Exception {
        backbone = Path.of(AllocateCommandTest.class.getResource("/golden/timm_vit_tiny_fmnist.safetensors").toURI())
                .toString();
    }

    @Test
    void writesAModelThatEvalLoadsAtTheTargetFlops() throws Exception {
        Path out = dir.resolve("aware");
        CliRunner.Run r = CliRunner.run("allocate", "--method", "activation-aware", "--model", backbone, "--target",
                "0.5", "--out", out.toString(), "--calibration-images", "64", "--device", "cpu");
        assertEquals(0, r.code(), r.err() + r.out());
        AllocationReport report = AllocationReport.read(out);
        assertEquals("activation-aware", report.method());
        assertEquals("tau", report.thresholdName());
        assertEquals(64, report.calibrationImages());
        assertTrue(report.flopsFraction() <= 0.5 && report.flopsFraction() > 0.4, "fraction " + report.flopsFraction());
        assertEquals(6, report.ranks().size(), "qkv, fc1, fc2 in each of the 2 blocks");
        assertTrue(Files.readString(out.resolve(AllocationReport.MARKDOWN)).contains("blocks.1.mlp.fc2"));

        CliRunner.Run eval = CliRunner.run("eval", "--model", out.resolve(AllocationRun.MODEL).toString(), "--data",
                "fmnist-subset", "--json", "--device", "cpu");
        assertEquals(0, eval.code(), eval.err());
        JsonNode j = new ObjectMapper().readTree(eval.out().strip());
        assertEquals(report.flops(), j.get("flops").asLong());
        assertTrue(j.get("top1").asDouble() > 20, "a half-FLOPs subnet of an 80 % model is far above chance: " + j);
    }

    @Test
    void fineTunesTheFixedSubnetWhenAsked() throws Exception {
        Path out = dir.resolve("greedy-ft");
        CliRunner.Run r = CliRunner.run("allocate", "--method", "greedy", "--model", backbone, "--target", "0.6",
                "--out", out.toString(), "--calibration-images", "32", "--finetune-epochs", "1", "--device", "cpu");
        assertEquals(0, r.code(), r.err() + r.out());
        AllocationReport report = AllocationReport.read(out);
        assertEquals(1, report.finetuneEpochs());
        assertTrue(report.valTop1() != null && report.valTop1() > 0.2, "val top-1 " + report.valTop1());
        assertTrue(Files.exists(out.resolve(AllocationRun.FINETUNE_DIR).resolve("metrics.csv")));
        assertTrue(report.flopsFraction() <= 0.6, "the fine-tune keeps the ranks");
    }

    @Test
    void badInputExitsTwoWithOneLine() {
        String out = dir.resolve("bad").toString();
        String[][] cases = {
            {"--method", "random", "--model", backbone, "--target", "0.5"},
            {"--method", "uniform", "--model", backbone, "--target", "0"},
            {"--method", "uniform", "--model", backbone, "--target", "1.5"},
            {"--method", "uniform", "--model", backbone, "--target", "half"},
            {"--method", "svd-energy", "--model", backbone, "--target", "0.01"},
            {"--method", "greedy", "--model", dir.resolve("missing.safetensors").toString(), "--target", "0.5"},
        };
        String[] expected = {"--method", "--target", "--target", "--target", "smallest", "missing.safetensors"};
        for (int i = 0; i < cases.length; i++) {
            String[] args = new String[cases[i].length + 5];
            args[0] = "allocate";
            System.arraycopy(cases[i], 0, args, 1, cases[i].length);
            args[cases[i].length + 1] = "--out";
            args[cases[i].length + 2] = out;
            args[cases[i].length + 3] = "--device";
            args[cases[i].length + 4] = "cpu";
            CliRunner.Run r = CliRunner.run(args);
            assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
            assertTrue(r.error().startsWith("error: ") && r.error().contains(expected[i]), r.error());
        }
        assertFalse(Files.exists(dir.resolve("bad").resolve(AllocationRun.MODEL)));
    }
}
