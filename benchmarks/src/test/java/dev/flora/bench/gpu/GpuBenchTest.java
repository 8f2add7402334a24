package dev.flora.bench.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU benchmarks run end to end on the emulated device at small sizes, so the command a GPU
 * session runs is known to work before a GPU is lent (the timings here mean nothing).
 */
class GpuBenchTest {
    private static String run(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            int code = GpuBench.commandLine().execute(args);
            assertEquals(0, code, "exit code of gpu-bench " + String.join(" ", args));
        } finally {
            System.setOut(saved);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void lowRankSweepChecksTheFusedKernelAgainstTwoGemms(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("lowrank.csv");
        run("lowrank", "--device", "cuda-emulated", "--models", "vit-fmnist", "--ratios", "0.25,0.75",
                "--tokens", "37", "--min-ms", "1", "--samples", "1", "--csv", csv.toString());
        List<String> lines = Files.readAllLines(csv);
        assertEquals(LowRankSweep.HEADER, lines.get(0));
        assertEquals(1 + 3 * 2, lines.size(), "three modules at two ranks");
        for (String row : lines.subList(1, lines.size())) {
            String[] f = row.split(",");
            assertTrue(Double.parseDouble(f[13]) < 1e-5, "fp32 fused vs two GEMMs: " + row);
            assertTrue(Double.parseDouble(f[9]) > 0, "fused time: " + row);
        }
    }

    @Test
    void tensorCoreSweepIsWithinTf32Tolerance(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("lowrank.csv");
        run("lowrank", "--device", "cuda-emulated", "--precision", "tf32", "--models", "vit-fmnist",
                "--ratios", "0.5", "--tokens", "21", "--min-ms", "1", "--samples", "1", "--csv", csv.toString());
        for (String row : Files.readAllLines(csv).subList(1, 4)) {
            double err = Double.parseDouble(row.split(",")[13]);
            assertTrue(err < 2e-3 && err > 0, "tf32 rounds its inputs, so it differs a little: " + row);
        }
    }

    @Test
    void trainStepAndSvdPrintTheirFigures() {
        String train = run("train", "--device", "cuda-emulated", "--model", "vit-fmnist", "--depth", "1", "--batch", "1",
                "--min-ms", "1", "--samples", "1");
        Matcher ips = Pattern.compile("\"img_per_s\": ([0-9.]+)").matcher(train);
        assertTrue(ips.find() && Double.parseDouble(ips.group(1)) > 0, train);
        String svd = run("svd", "--device", "cuda-emulated", "--model", "vit-fmnist", "--min-ms", "1",
                "--samples", "1");
        assertTrue(svd.contains("\"matrices\": 18"), svd);
        assertTrue(svd.contains("\"mlp.fc2_128x512_ms\""), svd);
    }

    @Test
    void badInputExitsWithTwo() {
        assertEquals(2, GpuBench.commandLine().execute("lowrank", "--device", "cpu"));
        assertEquals(2, GpuBench.commandLine().execute("train", "--device", "cuda-emulated", "--model", "resnet"));
        assertEquals(2, GpuBench.commandLine().execute("svd", "--device", "cuda-emulated", "--precision", "fp8"));
    }
}
