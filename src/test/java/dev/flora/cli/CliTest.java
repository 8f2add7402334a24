package dev.flora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.io.SafeTensors;
import dev.flora.engine.io.TensorData;
import dev.flora.engine.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI as a user meets it: exit codes, one-line errors, and results against PyTorch. */
class CliTest {
    @TempDir
    Path dir;

    static CliRunner.Run run(String... args) {
        return CliRunner.run(args);
    }

    static Path golden(String name) throws Exception {
        return Path.of(CliTest.class.getResource("/golden/" + name).toURI());
    }

    @Test
    void benchJsonCarriesTheThreeFiguresAndTheKernels() throws Exception {
        CliRunner.Run r = run("bench", "--model", golden("timm_vit_tiny_fmnist.safetensors").toString(),
                "--warmup-steps", "1", "--train-steps", "1", "--latency-calls", "3", "--batches", "1", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode got = new ObjectMapper().readTree(r.out().strip());
        for (String key : new String[] {"train_img_per_s", "infer_b1_ms", "infer_b256_img_per_s"}) {
            assertTrue(got.get(key).asDouble() > 0, key + " in " + r.out());
        }
        // inference runs its products and layer norm on oneDNN's fp32 kernels, training on OpenBLAS
        assertEquals("oneDNN fp32 on " + CpuBackend.oneDnnIsa(Precision.FP32)
                + " (linear layers, attention, patch embedding, layer norm)", got.get("blas_kernels").asText());
        assertEquals(new CpuBackend().rowKernels(), got.get("row_kernels").asText());
    }

    /** In bf16, bench times training on the mixed-precision backend and inference on the bf16 one. */
    @Test
    void benchInBf16TimesMixedPrecisionTraining() throws Exception {
        CliRunner.Run r = run("bench", "--model", golden("timm_vit_tiny_fmnist.safetensors").toString(), "--device",
                "cpu", "--precision", "bf16", "--warmup-steps", "1", "--train-steps", "1", "--latency-calls", "3",
                "--batches", "1", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode got = new ObjectMapper().readTree(r.out().strip());
        assertTrue(got.get("train_img_per_s").asDouble() > 0, r.out());
        if (CpuBackend.bf16UnsupportedReason() == null) {
            assertTrue(r.err().contains("bf16 linear layers") && r.err().contains("mixed precision"), r.err());
            assertEquals("bf16", got.get("precision").asText());
        }
    }

    @Test
    void timmModelWrittenByPyTorchEvaluatesAsPyTorchDoes() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(golden("timm_vit_tiny_fmnist.json").toFile());
        CliRunner.Run r = run("eval", "--model", golden("timm_vit_tiny_fmnist.safetensors").toString(), "--data",
                "fmnist-subset", "--json");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(1, lines.length, "--json prints exactly one line: " + r.out());
        JsonNode got = new ObjectMapper().readTree(lines[0]);
        assertEquals(expected.get("count").asInt(), got.get("count").asInt());
        assertEquals(expected.get("top1").asDouble(), got.get("top1").asDouble(), 0.1,
                "top-1 within 2 images of PyTorch's");
        assertEquals(expected.get("loss").asDouble(), got.get("loss").asDouble(),
                1e-4 * expected.get("loss").asDouble());
        // 28x28, patch 7, dim 32, depth 2, mlp 64: hand count of multiply-accumulates
        long patch = 16L * 49 * 32;
        long perBlock = 17L * 32 * 96 + 17L * 32 * 32 + 2L * 17 * 32 * 64 + 2L * 17 * 17 * 32;
        assertEquals(patch + 2 * perBlock + 32 * 10, got.get("flops").asLong());
        // the forward runs the last block's proj, MLP and attention products for the class token only
        long lastBlockSkips = 16L * (32 * 32 + 2 * 32 * 64 + 2 * 17 * 32);
        assertEquals(patch + 2 * perBlock + 32 * 10 - lastBlockSkips, got.get("executed_macs").asLong());
        assertTrue(got.get("params").asLong() > 0);
    }

    /** {@code --precision bf16} reaches the backend: the device line says so and the scores move a little. */
    @Test
    void evalInBf16ScoresLikeFp32() throws Exception {
        JsonNode fp32 = new ObjectMapper().readTree(run("eval", "--data", "fmnist-subset", "--device", "cpu", "--json")
                .out().strip());
        CliRunner.Run r = run("eval", "--data", "fmnist-subset", "--device", "cpu", "--precision", "bf16", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode bf16 = new ObjectMapper().readTree(r.out().strip());
        boolean ran = CpuBackend.bf16UnsupportedReason() == null;
        assertTrue(r.err().contains(ran ? "bf16 linear layers" : "fp32 (bf16 asked for, but"), r.err());
        assertEquals(fp32.get("top1").asDouble(), bf16.get("top1").asDouble(), 0.2);
        double loss = fp32.get("loss").asDouble();
        assertEquals(loss, bf16.get("loss").asDouble(), 1e-3 * loss);
        if (ran) {
            assertTrue(loss != bf16.get("loss").asDouble(), "bf16 gave fp32's exact loss");
        }
        CliRunner.Run bad = run("eval", "--data", "fmnist-subset", "--precision", "fp8");
        assertTrue(bad.code() != 0);
        assertTrue(bad.err().contains("--precision fp8: expected fp32, tf32 or bf16"), bad.err());
    }

    /**
     * {@code pretrain --precision bf16} trains in mixed precision: the device line says so, and
     * from the same seed the run ends near the fp32 run's validation loss, not on it. The precision
     * is saved with the run: stopped after one epoch and resumed without the flag, it goes on in bf16.
     */
    @Test
    void pretrainInBf16TrainsLikeFp32() throws Exception {
        String[] tiny = {"pretrain", "--data", "fmnist-subset", "--device", "cpu", "--epochs", "2", "--embed-dim", "32",
            "--depth", "2", "--num-heads", "2", "--patch-size", "7", "--mlp-ratio", "2", "--train-limit", "512",
            "--batch-size", "64"};
        CliRunner.Run fp32 = run(concat(tiny, "--out", dir.resolve("fp32").toString()));
        assertEquals(0, fp32.code(), fp32.err());
        CliRunner.Run first = run(concat(tiny, "--out", dir.resolve("bf16").toString(), "--precision", "bf16",
                "--epochs-this-run", "1"));
        assertEquals(0, first.code(), first.err());
        assertTrue(Files.readString(dir.resolve("bf16/config.yaml")).contains("precision: bf16"));
        CliRunner.Run bf16 = run("pretrain", "--out", dir.resolve("bf16").toString(), "--resume", "--device", "cpu");
        assertEquals(0, bf16.code(), bf16.err());
        boolean ran = CpuBackend.bf16UnsupportedReason() == null;
        String device = ran ? "mixed precision: bf16 linear-layer and attention products forward and backward"
                : "fp32 (bf16 asked for, but";
        assertTrue(first.out().contains(device), first.out());
        assertTrue(bf16.out().contains(device), bf16.out());
        double fp32Loss = finalValLoss(fp32.out());
        double bf16Loss = finalValLoss(bf16.out());
        assertEquals(fp32Loss, bf16Loss, 0.02 * fp32Loss);
        if (ran) {
            assertTrue(fp32Loss != bf16Loss, "bf16 gave fp32's exact validation loss");
        }
    }

    private static double finalValLoss(String out) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("val loss ([0-9.]+)").matcher(out);
        assertTrue(m.find(), out);
        return Double.parseDouble(m.group(1));
    }

    private static String[] concat(String[] head, String... tail) {
        String[] all = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, all, head.length, tail.length);
        return all;
    }

    @Test
    void everyCommandsHelpRendersCleanly() {
        for (String name : new picocli.CommandLine(new FloraCli()).getSubcommands().keySet()) {
            CliRunner.Run r = run(name, "--help");
            assertEquals(0, r.code(), name + ": " + r.err());
            assertFalse(r.err().contains("WARN"), name + " --help warned: " + r.err());
            assertFalse(r.out().contains("%n") || r.out().contains("%%"), name + " --help shows raw format: " + r.out());
        }
    }

    @Test
    void flatKeysOfEarlierVersionsStillLoadAndNameTheirNewKeys() throws Exception {
        Path file = dir.resolve("old.yaml");
        Files.writeString(file, "epochs: 3\ndistill_weight: 0.5\nratios: [0.5, 1.0]\nmethod: spos\n");
        CliRunner.Run r = run("supernet", "--config", file.toString(), "--print-config");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("loop:\n") && r.out().contains("\n  epochs: 3\n"), r.out());
        assertTrue(r.out().contains("distill:\n  weight: 0.5\n"), r.out());
        assertTrue(r.out().contains("method: spos\n"), r.out());
        assertTrue(r.err().contains("'epochs' is now 'loop.epochs'"), r.err());
        assertTrue(r.err().contains("'distill_weight' is now 'distill.weight'"), r.err());
        assertTrue(r.err().contains("'ratios' is now 'space.ratios'"), r.err());
        r = run("compress", "--set", "supernet.lr=2e-4", "--print-config");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("'supernet.lr' is now 'supernet.loop.lr'"), r.err());
        assertTrue(r.out().contains("    lr: 2.0E-4\n") || r.out().contains("    lr: 0.0002\n"), r.out());
    }

    @Test
    void ablationQuickStartsFromTheBundledDataAndSmallBudgetsUnderTheUsersLayers() {
        CliRunner.Run r = run("ablation", "--quick", "--print-config");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("data: fmnist-subset\n") && r.out().contains("\n    epochs: 2\n"), r.out());
        assertFalse(r.err().contains("is now"), "ablation-quick.yaml uses today's keys: " + r.err());
        r = run("ablation", "--quick", "--set", "supernet.loop.epochs=3", "--print-config");
        assertTrue(r.out().contains("\n    epochs: 3\n") && r.out().contains("data: fmnist-subset\n"), r.out());
        r = run("ablation", "--print-config");
        assertFalse(r.out().contains("data: fmnist-subset\n"), "without --quick the full defaults: " + r.out());
    }

    @Test
    void everyConfigKeyHasItsFlagWithTheDefaultInItsHelp() {
        CliRunner.Run r = run("supernet", "--help");
        assertEquals(0, r.code(), r.err());
        for (String flag : new String[] {"--epochs", "--lr=X", "--label-smoothing", "--distill-weight", "--ratios",
            "--[no-]include-proj", "--method", "--train-limit"}) {
            assertTrue(r.out().contains(flag), flag + " missing from: " + r.out());
        }
        assertTrue(r.out().contains("Peak learning rate. (default: 1.0E-4)"), r.out());
        r = run("pretrain", "--help");
        assertTrue(r.out().contains("Peak learning rate. (default: 0.001)"), r.out());
        r = run("supernet", "--method", "spos", "--lr", "3e-4", "--print-config");
        assertTrue(r.out().contains("method: spos\n") && r.out().contains("  lr: 3.0E-4\n"), r.out());
    }

    @Test
    void configLayersApplyInOrderAndPrint() throws Exception {
        Path file = dir.resolve("c.yaml");
        Files.writeString(file, "epochs: 3\nbatch_size: 32\n");
        CliRunner.Run r = run("pretrain", "--config", file.toString(), "--epochs", "4", "--set", "lr=0.01",
                "--print-config");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("epochs: 4\n"), "the flag beats the file: " + r.out());
        assertTrue(r.out().contains("batch_size: 32\n"), "the file beats the defaults: " + r.out());
        assertTrue(r.out().contains("lr: 0.01\n"), "--set applies: " + r.out());
    }

    /** --set takes a list key as numbers separated by commas, and leaves comma-separated names as text. */
    @Test
    void setTakesCommaSeparatedNumbersAsAList() {
        CliRunner.Run r = run("ablation", "--set", "supernet.space.ratios=0.0625,0.5,1", "--set",
                "allocations=svd-energy,greedy", "--set", "targets=0.25, 0.5", "--print-config");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("    ratios:\n    - 0.0625\n    - 0.5\n    - 1.0\n"), r.out());
        assertTrue(r.out().contains("allocations: \"svd-energy,greedy\"\n"), r.out());
        assertTrue(r.out().contains("targets:\n- 0.25\n- 0.5\n"), r.out());
    }

    @Test
    void resumeRefusesNewSettingsAndRunLimitsMustBePositive() {
        CliRunner.Run r = run("supernet", "--resume", "--out", dir.toString(), "--set", "epochs=2");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("drop --set"), r.err());
        r = run("search", "--resume", "--out", dir.toString(), "--population", "8");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("(--population)"), r.err());
        r = run("pretrain", "--out", dir.toString(), "--data", "fmnist-subset", "--epochs-this-run", "0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("--epochs-this-run must be positive"), r.err());
        r = run("bench", "--warmup-steps", "-1");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("--warmup-steps must not be negative, got -1"), r.err());
    }

    @Test
    void unknownFlagIsABadInput() {
        CliRunner.Run r = run("eval", "--data", "fmnist-subset", "--bogus");
        assertEquals(2, r.code());
        assertTrue(r.error().contains("--bogus"), r.err());
    }

    @Test
    void missingDataPathIsNamed() throws Exception {
        CliRunner.Run r = run("eval", "--model", golden("timm_vit_tiny_fmnist.safetensors").toString(), "--data",
                dir.resolve("nowhere").toString());
        assertEquals(2, r.code());
        assertTrue(r.error().contains("nowhere"), r.err());
    }

    @Test
    void truncatedModelFileIsNamed() throws Exception {
        byte[] raw = Files.readAllBytes(golden("timm_vit_tiny_fmnist.safetensors"));
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(raw, raw.length / 2));
        CliRunner.Run r = run("eval", "--model", cut.toString(), "--data", "fmnist-subset");
        assertEquals(2, r.code());
        assertTrue(r.error().startsWith("error: " + cut), r.err());
    }

    /** The golden timm model with one tensor replaced or added, written to {@code file}. */
    private Path goldenWith(String file, String tensor, int... shape) throws Exception {
        SafeTensors f = SafeTensors.open(golden("timm_vit_tiny_fmnist.safetensors"));
        Map<String, TensorData> t = new LinkedHashMap<>();
        for (var e : f.entries().values()) {
            t.put(e.name(), new TensorData(e.shape(), f.read(e.name())));
        }
        t.put(tensor, new TensorData(shape, new float[Math.toIntExact(Tensor.product(shape))]));
        Path out = dir.resolve(file);
        SafeTensors.write(out, t, f.metadata());
        return out;
    }

    @Test
    void tensorOfTheWrongShapeIsNamed() throws Exception {
        Path bad = goldenWith("bad.safetensors", "blocks.1.mlp.fc2.weight", 32, 63);
        CliRunner.Run r = run("eval", "--model", bad.toString(), "--data", "fmnist-subset");
        assertEquals(2, r.code());
        assertTrue(r.error().contains("blocks.1.mlp.fc2.weight") && r.error().contains("[32, 64]"), r.err());
    }

    @Test
    void anUnsupportedTimmVariantIsABadInputNamingItsTensor() throws Exception {
        Path layerScale = goldenWith("ls.safetensors", "blocks.0.ls1.gamma", 32);
        CliRunner.Run r = run("eval", "--model", layerScale.toString(), "--data", "fmnist-subset");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("blocks.0.ls1.gamma") && r.error().contains("LayerScale"), r.err());
    }

    @Test
    void aHeadsFlagThatContradictsTheFileIsABadInput() throws Exception {
        CliRunner.Run r = run("eval", "--model", golden("timm_vit_tiny_fmnist.safetensors").toString(), "--data",
                "fmnist-subset", "--num-heads", "4");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("--num-heads 4") && r.error().contains("num_heads 2"), r.err());
    }

    @Test
    void deitPresetsEvaluateAndPredictSmallGreyFilesThroughTheirPreprocessing() throws Exception {
        // 28x28 greyscale files become 3x224x224 the timm way: L to RGB, resize to 256, center crop
        Path folder = dir.resolve("grey");
        for (String c : new String[] {"a", "b"}) {
            java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(28, 28,
                    java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
            img.getRaster().setSample(c.equals("a") ? 3 : 20, 14, 0, 255);
            Files.createDirectories(folder.resolve(c));
            javax.imageio.ImageIO.write(img, "png", folder.resolve(c).resolve("x.png").toFile());
        }
        for (String preset : new String[] {"deit-tiny", "deit-base"}) {
            CliRunner.Run r = run("eval", "--model", preset, "--data", folder.toString(), "--json");
            assertEquals(0, r.code(), r.err());
            assertEquals(2, new ObjectMapper().readTree(r.out().strip()).get("count").asInt(), preset);
            assertTrue(!r.err().contains("note:"), "a preset records its preprocessing: " + r.err());
        }
        CliRunner.Run p = run("predict", "--model", "deit-small", "--topk", "3", "--json",
                folder.resolve("a").resolve("x.png").toString());
        assertEquals(0, p.code(), p.err());
        assertEquals(3, new ObjectMapper().readTree(p.out().strip()).get("topk").size());
        CliRunner.Run r = run("eval", "--model", "deit-huge", "--data", "fmnist-subset");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("presets: deit-tiny, deit-small, deit-base"), r.err());
    }

    @Test
    void corruptDataLeavesNoRunDirectory() throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        for (String f : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
            Files.write(data.resolve(f), new byte[] {0x1f, (byte) 0x8b, 8, 0, 1, 2, 3});
        }
        Path out = dir.resolve("run");
        CliRunner.Run r = run("pretrain", "--data", data.toString(), "--out", out.toString(), "--epochs", "1");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("train-images-idx3-ubyte.gz"), r.err());
        assertFalse(Files.exists(out), "no partial output");
    }

    @Test
    void resumeRejectsSettingFlagsAndBadValuesAreNamed() {
        CliRunner.Run r = run("pretrain", "--out", dir.resolve("r").toString(), "--resume", "--lr", "0.1");
        assertEquals(2, r.code());
        assertTrue(r.error().contains("lr"), r.err());
        r = run("pretrain", "--data", "fmnist-subset", "--out", dir.resolve("r2").toString(), "--label-smoothing",
                "1.5");
        assertEquals(2, r.code());
        assertTrue(r.error().contains("label_smoothing"), r.err());
        r = run("eval", "--data", "fmnist-subset", "--split", "holdout");
        assertEquals(2, r.code());
        assertTrue(r.error().contains("holdout"), r.err());
    }
}
