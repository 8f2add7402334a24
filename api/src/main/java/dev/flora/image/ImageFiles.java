package dev.flora.image;

import dev.flora.engine.io.FormatException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Reads PNG and JPEG files into {@link Picture}s. PLACEHOLDER: plain ImageIO.read; the full
 * version (CMYK, progressive, greyscale kept as L, one-line errors for corrupt and truncated
 * files) replaces it.
 */
public final class ImageFiles {
    private ImageFiles() {
    }

    /** Whether the file name ends in an image extension we decode (.png, .jpg, .jpeg; any case). */
    public static boolean hasImageExtension(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }

    public static Picture read(Path file) {
        try {
            BufferedImage img = ImageIO.read(Files.newInputStream(file));
            if (img == null) {
                throw new FormatException(file + ": not a PNG or JPEG image");
            }
            return fromBufferedImage(img);
        } catch (IOException e) {
            throw new FormatException(file + ": cannot decode image (" + e.getMessage() + ")", e);
        }
    }

    /** The pixels of {@code img}: greyscale as one channel, anything else as RGB (alpha dropped). */
    public static Picture fromBufferedImage(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            byte[] px = new byte[w * h];
            img.getRaster().getDataElements(0, 0, w, h, px);
            return new Picture(w, h, 1, px);
        }
        byte[] px = new byte[w * h * 3];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * 3;
                px[i] = (byte) (row[x] >> 16);
                px[i + 1] = (byte) (row[x] >> 8);
                px[i + 2] = (byte) row[x];
            }
        }
        return new Picture(w, h, 3, px);
    }
}
