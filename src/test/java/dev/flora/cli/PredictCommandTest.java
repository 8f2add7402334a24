package dev.flora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.api.VitPredictor;
import dev.flora.data.Datasets;
import dev.flora.data.ImageDataset;
import dev.flora.data.Split;
import dev.flora.models.ModelLabels;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import dev.flora.engine.io.ModelIO;
import dev.flora.models.ModelSource;
import dev.flora.engine.cpu.CpuBackend;
import java.util.OptionalInt;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code flora predict} on Fashion-MNIST test images written as greyscale PNGs. */
class PredictCommandTest {
    static final int IMAGES = 6;
    /** vit-fmnist's metadata lacks crop_pct: 1 keeps the 28×28 image as is, as the raw-pixel path does. */
    static final String[] EXACT = {"--model", "vit-fmnist", "--crop-pct", "1"};

    @TempDir
    static Path dir;
    static ImageDataset test;

    @BeforeAll
    static void writeImages() throws Exception {
        test = (ImageDataset) Datasets.load(Datasets.BUNDLED_FMNIST, Split.TEST);
        Path images = Files.createDirectories(dir.resolve("images/nested"));
        for (int i = 0; i < IMAGES; i++) {
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            img.getRaster().setDataElements(0, 0, 28, 28, pixels(i));
            // two levels and a non-image file, for the walk
            Path target = (i % 2 == 0 ? images.getParent() : images).resolve("img" + i + ".png");
            assertTrue(ImageIO.write(img, "png", target.toFile()));
        }
        Files.writeString(images.resolve("README.txt"), "not an image");
        Files.createDirectories(dir.resolve("empty"));
        Files.write(dir.resolve("corrupt.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
    }

    static byte[] pixels(int i) {
        return Arrays.copyOfRange(test.pixels(), i * 784, (i + 1) * 784);
    }

    static String[] args(String... more) {
        String[] all = Arrays.copyOf(new String[] {"predict"}, 1 + EXACT.length + more.length);
        System.arraycopy(EXACT, 0, all, 1, EXACT.length);
        System.arraycopy(more, 0, all, 1 + EXACT.length, more.length);
        return all;
    }

    @Test
    void jsonLinesAgreeWithThePixelPath() throws Exception {
        CliRunner.Run r = CliRunner.run(args("--json", "--topk", "3", dir.resolve("images").toString()));
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(IMAGES, lines.length, r.out());
        try (VitPredictor p = VitPredictor.load("vit-fmnist", 1, 1)) {
            for (int n = 0; n < IMAGES; n++) {
                JsonNode got = new ObjectMapper().readTree(lines[n]);
                String file = got.get("file").asText();
                int i = Integer.parseInt(file.replaceAll(".*img(\\d+)\\.png$", "$1"));
                float[] logits = p.predictPixels(pixels(i), 1);
                int expected = p.classifyPixels(pixels(i));
                JsonNode top = got.get("topk");
                assertEquals(3, top.size());
                assertEquals(expected, top.get(0).get("index").asInt(), file);
                assertEquals(ModelLabels.FASHION_MNIST.get(expected), top.get(0).get("label").asText());
                double sum = 0;
                for (float l : logits) {
                    sum += Math.exp(l - logits[expected]);
                }
                assertEquals(1 / sum, top.get(0).get("prob").asDouble(), 1e-4, file);
            }
        }
        // the walk's order: nested/ sorts after img0.png, img2.png, img4.png
        assertTrue(lines[0].contains("img0.png") && lines[3].contains("nested"), r.out());
    }

    @Test
    void textNamesTheFileThenEachLabelWithItsPercentage() {
        Path f = dir.resolve("images/img0.png");
        CliRunner.Run r = CliRunner.run(args("--topk", "2", f.toString()));
        assertEquals(0, r.code(), r.err());
        String line = r.out().strip();
        assertTrue(line.matches("\\Q" + f + "\\E  [^()]+ \\(\\d+\\.\\d%\\)  [^()]+ \\(\\d+\\.\\d%\\)"), line);
        int expected;
        try (VitPredictor p = VitPredictor.load("vit-fmnist", 1, 1)) {
            expected = p.classifyPixels(pixels(0));
        }
        assertTrue(line.startsWith(f + "  " + ModelLabels.FASHION_MNIST.get(expected) + " ("), line);
    }

    @Test
    void aModelWithoutCropPctGetsTimmsDefaultsAndSaysSoOnStderr() {
        Path bare = dir.resolve("bare.safetensors");
        ModelIO.save(ModelSource.load("vit-fmnist", new CpuBackend(), OptionalInt.empty()), bare, Map.of());
        CliRunner.Run r = CliRunner.run("predict", "--model", bare.toString(), "--json",
                dir.resolve("images/img0.png").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("does not record crop_pct, interpolation"), r.err());
        assertEquals(1, r.out().strip().split("\n").length, r.out());
        CliRunner.Run bundled = CliRunner.run("predict", "--model", "vit-fmnist", "--json",
                dir.resolve("images/img0.png").toString());
        assertTrue(!bundled.err().contains("note:"), "the bundled models record their preprocessing: " + bundled.err());
    }

    @Test
    void badInputExitsTwoWithOneLineNamingIt() {
        String img = dir.resolve("images/img0.png").toString();
        String[][] cases = {
            {dir.resolve("missing.png").toString(), "missing.png: no such file"},
            {dir.resolve("empty").toString(), "empty: no .png, .jpg or .jpeg files"},
            {dir.resolve("corrupt.png").toString(), "corrupt.png"},
            {"--interpolation", "lanczos", img, "--interpolation"},
            {"--topk", "0", img, "--topk"},
            {"--topk", "11", img, "--topk 11"},
            {"--mean", "0.5,0.5", img, "--mean"},
            {"--std", "0", img, "--std"},
        };
        for (String[] c : cases) {
            String[] a = args(Arrays.copyOf(c, c.length - 1));
            CliRunner.Run r = CliRunner.run(a);
            String want = c[c.length - 1];
            assertEquals(FloraCli.EXIT_BAD_INPUT, r.code(), String.join(" ", a) + ": " + r.err());
            assertTrue(r.error().startsWith("error: ") && r.error().contains(want), want + " not in " + r.error());
            assertEquals("", r.out(), String.join(" ", a));
        }
    }
}
