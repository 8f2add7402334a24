package dev.flora.image;

import com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi;
import dev.flora.engine.io.FormatException;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Reads PNG and JPEG files into {@link Picture}s holding what PIL's {@code Image.open(f)} then
 * {@code convert("RGB")} (or L for greyscale files) holds: samples as stored, no colour
 * management, alpha dropped rather than composited, CMYK converted with PIL's formula. JPEG goes
 * through TwelveMonkeys' reader (CMYK, YCCK, broken metadata), PNG through the JDK's. A file that
 * is empty, not an image, corrupt or truncated throws a {@link FormatException} of one line.
 *
 * <p>One deliberate difference: a 16-bit greyscale PNG keeps the high byte of each sample (as PIL
 * does for 16-bit RGB), where PIL's convert from mode I clips to 255 and turns most of it white.
 * CMYK JPEGs are taken as Adobe-inverted, which is what PIL assumes when the Adobe marker is there.
 */
public final class ImageFiles {
    private static final byte[] IEND = {'I', 'E', 'N', 'D'};
    /** How far from the end of a PNG its IEND chunk may sit (PIL tolerates trailing bytes too). */
    private static final int IEND_SEARCH = 4096;
    /**
     * The most pixels a file may declare: PIL's decompression-bomb limit (it refuses twice its
     * {@code MAX_IMAGE_PIXELS}, 2 × 89 478 485), so that a header of a few bytes cannot make the
     * decoder allocate gigabytes before the data runs out.
     */
    public static final long MAX_PIXELS = 2L * 89_478_485;

    private ImageFiles() {
    }

    /** Whether the file name ends in an image extension we decode (.png, .jpg, .jpeg; any case). */
    public static boolean hasImageExtension(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }

    /** The pixels of a PNG or JPEG file (recognized by its first bytes, not its name). */
    public static Picture read(Path file) {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read the file (" + oneLine(e) + ")", e);
        }
        if (data.length == 0) {
            throw new FormatException(file + ": empty file, expected a PNG or JPEG image");
        }
        boolean png = startsWith(data, 0x89, 'P', 'N', 'G');
        boolean jpeg = startsWith(data, 0xff, 0xd8, 0xff);
        if (!png && !jpeg) {
            throw new FormatException(file + ": not a PNG or JPEG image (expected the bytes 89 'PNG' or FF D8 FF"
                    + " at the start)");
        }
        String kind = png ? "PNG" : "JPEG";
        if (png && !endsWithIend(data)) {
            throw new FormatException(file + ": truncated PNG (no IEND chunk at the end), expected a complete image");
        }
        ImageReader reader = png ? Readers.png() : Readers.jpeg();
        List<String> warnings = new ArrayList<>();
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            reader.setInput(in, true, true);
            int w = reader.getWidth(0);
            int h = reader.getHeight(0);
            if ((long) w * h > MAX_PIXELS) {
                throw new FormatException(String.format(Locale.ROOT, "%s: the %s declares %d x %d pixels, more than "
                        + "the %,d flora-j decodes (PIL's decompression-bomb limit)", file, kind, w, h, MAX_PIXELS));
            }
            long least = png ? leastPngBytes(data, w, h) : leastJpegBytes(w, h);
            if (data.length < least) {
                throw new FormatException(String.format(Locale.ROOT, "%s: a %s of %,d bytes cannot hold the %d x %d "
                        + "pixels it declares (that needs at least %,d bytes): truncated or corrupt", file, kind,
                        data.length, w, h, least));
            }
            Picture p = jpeg && isCmyk(reader) ? fromInvertedCmyk(reader.readRaster(0, null))
                    : fromBufferedImage(reader.read(0));
            for (String warning : warnings) {
                if (isTruncation(warning)) {
                    throw new FormatException(file + ": truncated " + kind + " (" + FormatException.oneLine(warning)
                            + "), expected a complete image");
                }
            }
            return p;
        } catch (IOException | RuntimeException e) {
            if (e instanceof FormatException fe) {
                throw fe;
            }
            throw new FormatException(file + ": corrupt or unsupported " + kind + " (" + oneLine(e) + ")", e);
        } finally {
            reader.dispose();
        }
    }

    /**
     * The pixels of {@code img}: greyscale (also a grey palette) as one channel, anything else
     * as RGB with alpha dropped. Samples are taken as stored, without colour conversion; 16-bit
     * samples keep their high byte, as PIL does for 16-bit RGB.
     */
    public static Picture fromBufferedImage(BufferedImage img) {
        ColorModel cm = img.getColorModel();
        if (cm instanceof IndexColorModel icm) {
            return fromPalette(img.getRaster(), icm);
        }
        if (cm instanceof ComponentColorModel && !cm.isAlphaPremultiplied()
                && (cm.getNumColorComponents() == 1 || cm.getNumColorComponents() == 3)
                && cm.getColorSpace().getType() != ColorSpace.TYPE_CMYK) {
            return fromComponents(img.getRaster(), cm);
        }
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] px = new byte[w * h * 3];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0, i = y * w * 3; x < w; x++, i += 3) {
                px[i] = (byte) (row[x] >> 16);
                px[i + 1] = (byte) (row[x] >> 8);
                px[i + 2] = (byte) row[x];
            }
        }
        return new Picture(w, h, 3, px);
    }

    /** Colour (and grey) samples of a component image; the bytes straight from the buffer when 8-bit. */
    private static Picture fromComponents(Raster r, ColorModel cm) {
        int w = r.getWidth();
        int h = r.getHeight();
        int c = cm.getNumColorComponents();
        byte[] px = new byte[w * h * c];
        if (r.getDataBuffer() instanceof DataBufferByte db && r.getSampleModel() instanceof ComponentSampleModel sm
                && cm.getComponentSize(0) == 8 && sameBank(sm.getBankIndices())) {
            int bank = sm.getBankIndices()[0];
            byte[] src = db.getData(bank);
            int[] band = sm.getBandOffsets();
            int ps = sm.getPixelStride();
            int scan = sm.getScanlineStride();
            int base = db.getOffsets()[bank] - r.getSampleModelTranslateY() * scan - r.getSampleModelTranslateX() * ps;
            int o = 0;
            for (int y = 0; y < h; y++) {
                int row = base + y * scan;
                if (c == 1) {
                    for (int x = 0, p = row + band[0]; x < w; x++, p += ps) {
                        px[o++] = src[p];
                    }
                } else {
                    for (int x = 0, p = row; x < w; x++, p += ps) {
                        px[o++] = src[p + band[0]];
                        px[o++] = src[p + band[1]];
                        px[o++] = src[p + band[2]];
                    }
                }
            }
            return new Picture(w, h, c, px);
        }
        int[] samples = new int[w];
        for (int b = 0; b < c; b++) {
            int bits = cm.getComponentSize(b);
            for (int y = 0; y < h; y++) {
                r.getSamples(r.getMinX(), r.getMinY() + y, w, 1, b, samples);
                for (int x = 0; x < w; x++) {
                    px[(y * w + x) * c + b] = (byte) toByte(samples[x], bits);
                }
            }
        }
        return new Picture(w, h, c, px);
    }

    /** Palette images as RGB, or as L when every palette entry is grey (the same tensor either way). */
    private static Picture fromPalette(Raster r, IndexColorModel icm) {
        int w = r.getWidth();
        int h = r.getHeight();
        int n = icm.getMapSize();
        int[] rgb = new int[n];
        icm.getRGBs(rgb);
        boolean grey = true;
        for (int v : rgb) {
            grey &= ((v >> 16) & 0xff) == (v & 0xff) && ((v >> 8) & 0xff) == (v & 0xff);
        }
        int c = grey ? 1 : 3;
        byte[] px = new byte[w * h * c];
        int[] idx = new int[w];
        for (int y = 0, o = 0; y < h; y++) {
            r.getSamples(r.getMinX(), r.getMinY() + y, w, 1, 0, idx);
            for (int x = 0; x < w; x++) {
                int v = rgb[Math.min(idx[x], n - 1)];
                if (grey) {
                    px[o++] = (byte) v;
                } else {
                    px[o++] = (byte) (v >> 16);
                    px[o++] = (byte) (v >> 8);
                    px[o++] = (byte) v;
                }
            }
        }
        return new Picture(w, h, c, px);
    }

    /**
     * A CMYK JPEG's raw samples, stored inverted (Adobe's convention, which PIL reads as
     * "CMYK;I"), converted as PIL's cmyk2rgb does: channel = (255 − K) − (C·(255 − K)) / 255.
     */
    private static Picture fromInvertedCmyk(Raster r) {
        int w = r.getWidth();
        int h = r.getHeight();
        byte[] px = new byte[w * h * 3];
        int[] row = new int[w * 4];
        for (int y = 0, o = 0; y < h; y++) {
            r.getPixels(r.getMinX(), r.getMinY() + y, w, 1, row);
            for (int x = 0; x < w; x++) {
                int nk = row[4 * x + 3];
                for (int b = 0; b < 3; b++) {
                    int v = nk - mulDiv255(255 - row[4 * x + b], nk);
                    px[o++] = (byte) Math.max(0, Math.min(255, v));
                }
            }
        }
        return new Picture(w, h, 3, px);
    }

    /** PIL's MULDIV255: a·b/255 rounded, in integers. */
    private static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    private static int toByte(int sample, int bits) {
        if (bits == 8) {
            return sample;
        }
        if (bits > 8) {
            return sample >>> (bits - 8);
        }
        return sample * 255 / ((1 << bits) - 1);
    }

    /**
     * The fewest bytes a PNG of {@code w} x {@code h} pixels can take: its rows (a filter byte and
     * the samples at the bit depth and channels of IHDR) at deflate's best ratio, 1032:1. A file
     * below it is short of data, which the decoder would only find after allocating the image.
     */
    private static long leastPngBytes(byte[] d, int w, int h) {
        int bitDepth = d.length > 25 ? d[24] & 0xff : 1;
        int channels = switch (d.length > 25 ? d[25] & 0xff : 0) {
            case 2 -> 3;
            case 4 -> 2;
            case 6 -> 4;
            default -> 1; // grey or palette indices
        };
        long rowBytes = 1 + ((long) w * bitDepth * channels + 7) / 8;
        return h * rowBytes / 1032;
    }

    /**
     * The fewest bytes a JPEG of {@code w} x {@code h} pixels can take: one bit per 8 x 8 block of
     * its full-resolution component, the least a Huffman code spends on a block's DC value
     * (arithmetic-coded JPEGs, which could go below, are not decoded at all).
     */
    private static long leastJpegBytes(int w, int h) {
        return ((w + 7L) / 8) * ((h + 7L) / 8) / 8;
    }

    private static boolean isCmyk(ImageReader reader) throws IOException {
        ImageTypeSpecifier raw = reader.getRawImageType(0);
        return raw != null && raw.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_CMYK;
    }

    /** libjpeg's and TwelveMonkeys' warnings for a file that ends early; other warnings PIL ignores too. */
    private static boolean isTruncation(String warning) {
        String w = warning.toLowerCase(Locale.ROOT);
        return w.contains("premature end") || w.contains("truncated") || w.contains("missing eoi");
    }

    private static boolean endsWithIend(byte[] d) {
        for (int i = d.length - IEND.length; i >= Math.max(0, d.length - IEND_SEARCH); i--) {
            if (d[i] == IEND[0] && d[i + 1] == IEND[1] && d[i + 2] == IEND[2] && d[i + 3] == IEND[3]) {
                return true;
            }
        }
        return false;
    }

    private static boolean startsWith(byte[] d, int... prefix) {
        if (d.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if ((d[i] & 0xff) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameBank(int[] banks) {
        for (int b : banks) {
            if (b != banks[0]) {
                return false;
            }
        }
        return true;
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage();
        return FormatException.oneLine(e.getClass().getSimpleName() + (m == null ? "" : ": " + m));
    }

    /** The readers: TwelveMonkeys' JPEG reader by class, so a JDK reader ranked first cannot take over. */
    private static final class Readers {
        private static final ImageReaderSpi JPEG;
        private static final ImageReaderSpi PNG;

        static {
            // plugins of jars the context class loader did not see at ImageIO's first use
            ImageIO.scanForPlugins();
            JPEG = IIORegistry.getDefaultInstance().getServiceProviderByClass(JPEGImageReaderSpi.class);
            if (JPEG == null) {
                throw new IllegalStateException("TwelveMonkeys imageio-jpeg is not registered with ImageIO");
            }
            Iterator<ImageReader> png = ImageIO.getImageReadersByFormatName("png");
            if (!png.hasNext()) {
                throw new IllegalStateException("ImageIO has no PNG reader");
            }
            PNG = png.next().getOriginatingProvider();
        }

        static ImageReader jpeg() {
            return create(JPEG);
        }

        static ImageReader png() {
            return create(PNG);
        }

        private static ImageReader create(ImageReaderSpi spi) {
            try {
                return spi.createReaderInstance();
            } catch (IOException e) {
                throw new IllegalStateException("cannot create an image reader from " + spi.getClass().getName(), e);
            }
        }
    }
}
