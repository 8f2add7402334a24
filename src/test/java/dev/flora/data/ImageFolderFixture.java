package dev.flora.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * Writes small learnable image folders for tests: each class has its own colour and stripe
 * direction, images have assorted sizes, every other file is a JPEG, the rest PNG.
 */
public final class ImageFolderFixture {
    public static final List<String> CLASSES = List.of("circle", "square", "triangle");

    private ImageFolderFixture() {
    }

    /** A train/val root with {@code perClassTrain} and {@code perClassVal} images per class. */
    public static Path trainVal(Path root, int perClassTrain, int perClassVal, long seed) throws IOException {
        Random rng = new Random(seed);
        for (String split : new String[] {"train", "val"}) {
            int n = split.equals("train") ? perClassTrain : perClassVal;
            for (int c = 0; c < CLASSES.size(); c++) {
                Path dir = Files.createDirectories(root.resolve(split).resolve(CLASSES.get(c)));
                for (int i = 0; i < n; i++) {
                    boolean jpeg = i % 2 == 1;
                    write(image(c, 14 + rng.nextInt(20), 14 + rng.nextInt(20), rng), dir.resolve(String.format(
                            "img%03d.%s", i, jpeg ? "jpg" : "png")), jpeg);
                }
            }
        }
        return root;
    }

    /** An RGB image of class {@code c}: tinted stripes plus noise. */
    static BufferedImage image(int c, int w, int h, Random rng) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int phase = rng.nextInt(4);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int along = switch (c) {
                    case 0 -> x;
                    case 1 -> y;
                    default -> x + y;
                };
                boolean on = ((along + phase) / 2) % 2 == 0;
                int base = on ? 200 : 40;
                int r = clamp(base + (c == 0 ? 50 : -20) + rng.nextInt(21) - 10);
                int g = clamp(base + (c == 1 ? 50 : -20) + rng.nextInt(21) - 10);
                int b = clamp(base + (c == 2 ? 50 : -20) + rng.nextInt(21) - 10);
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    static void write(BufferedImage img, Path file, boolean jpeg) throws IOException {
        if (!ImageIO.write(img, jpeg ? "jpg" : "png", file.toFile())) {
            throw new IOException("no ImageIO writer for " + file);
        }
    }
}
