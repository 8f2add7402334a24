package com.example.embed;

import dev.flora.api.Prediction;
import dev.flora.api.VitPredictor;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Classifies one PNG or JPEG with the bundled low-rank vit-fmnist-flora and prints its three most
 * probable classes, one per line: {@code label<TAB>percent}. With no argument it writes and
 * classifies a 28×28 greyscale image of its own (two bright bars: something like trousers).
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        Path image = args.length > 0 ? Path.of(args[0]) : sample();
        try (VitPredictor predictor = VitPredictor.load("vit-fmnist-flora")) {
            for (Prediction p : predictor.topK(image, 3)) {
                System.out.printf(Locale.ROOT, "%s\t%.1f%%%n", p.label(), 100 * p.prob());
            }
        }
    }

    private static Path sample() throws Exception {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 2; y < 26; y++) {
            for (int x = 0; x < 28; x++) {
                boolean leg = (x >= 8 && x < 13) || (x >= 15 && x < 20) || (y < 8 && x >= 8 && x < 20);
                img.getRaster().setSample(x, y, 0, leg ? 220 : 0);
            }
        }
        Path file = Files.createTempFile("embed-predictor-", ".png");
        file.toFile().deleteOnExit();
        ImageIO.write(img, "png", file.toFile());
        return file;
    }
}
