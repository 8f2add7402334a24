package dev.flora.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.io.FormatException;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFilesTest {
    @TempDir
    Path tmp;

    private static byte[] fixture(String name) throws IOException {
        return Files.readAllBytes(Fixtures.dir().resolve(name));
    }

    /** The exception for {@code data} written to {@code name}: one line that names the file. */
    private FormatException failure(String name, byte[] data, String expected) throws IOException {
        Path f = tmp.resolve(name);
        Files.write(f, data);
        FormatException e = assertThrows(FormatException.class, () -> ImageFiles.read(f));
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        return e;
    }

    @Test
    void truncatedJpegIsAnErrorNotAGreyHalf() throws IOException {
        byte[] jpg = fixture("rgb_500x375.jpg");
        for (double cut : new double[] {0.1, 0.5, 0.9, 0.999}) {
            failure("cut.jpg", Arrays.copyOf(jpg, (int) (jpg.length * cut)), "truncated JPEG");
        }
        failure("noeoi.jpg", Arrays.copyOf(jpg, jpg.length - 2), "truncated JPEG");
    }

    @Test
    void truncatedPngIsAnError() throws IOException {
        byte[] png = fixture("rgb_300x200.png");
        for (double cut : new double[] {0.05, 0.5, 0.99}) {
            failure("cut.png", Arrays.copyOf(png, (int) (png.length * cut)), "truncated PNG");
        }
        failure("noiend.png", Arrays.copyOf(png, png.length - 12), "truncated PNG");
    }

    @Test
    void corruptJpegIsAnError() throws IOException {
        byte[] jpg = fixture("rgb_500x375.jpg");
        byte[] tables = jpg.clone();
        Arrays.fill(tables, 20, 600, (byte) 0); // quantization and Huffman tables gone
        failure("tables.jpg", tables, "corrupt or unsupported JPEG");
        failure("header.jpg", new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 1, 2, 3, 4, 5}, "JPEG");
    }

    @Test
    void corruptPngIsAnError() throws IOException {
        byte[] png = fixture("rgb_300x200.png");
        byte[] bad = png.clone();
        Arrays.fill(bad, 100, 2000, (byte) 0x55); // compressed pixel data damaged
        failure("bad.png", bad, "PNG");
    }

    @Test
    void aHeaderDeclaringMorePixelsThanPilDecodesIsRefusedBeforeAnyAllocation() throws IOException {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        byte[] bomb = pngHeaderOnly(20_000, 20_000); // 400 M pixels in 70 bytes: 1.2 GB as a raster
        ImageFiles.read(write("warm.png", fixture("rgb_300x200.png"))); // class loading is not the file's cost
        long before = threads.getCurrentThreadAllocatedBytes();
        failure("bomb.png", bomb, "declares 20000 x 20000 pixels, more than the 178,956,970 flora-j decodes");
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 64L << 20, allocated + " bytes allocated for a 70-byte file");
    }

    private Path write(String name, byte[] data) throws IOException {
        return Files.write(tmp.resolve(name), data);
    }

    /** A PNG of IHDR (8-bit RGB, {@code w} x {@code h}), one tiny IDAT and IEND, with valid CRCs. */
    private static byte[] pngHeaderOnly(int w, int h) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(out, "IHDR", java.nio.ByteBuffer.allocate(13).putInt(w).putInt(h).put(new byte[] {8, 2, 0, 0, 0})
                .array());
        chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x63, 0, 0, 0, 1, 0, 1});
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(java.io.ByteArrayOutputStream out, String type, byte[] data) {
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(t);
        out.writeBytes(data);
        out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void nonImagesAndEmptyAndMissingFilesAreErrors() throws IOException {
        failure("notes.jpg", "hello, not an image\n".getBytes(), "not a PNG or JPEG image");
        failure("empty.png", new byte[0], "empty file");
        Path missing = tmp.resolve("missing.png");
        FormatException e = assertThrows(FormatException.class, () -> ImageFiles.read(missing));
        assertTrue(e.getMessage().startsWith(missing + ": cannot read"), e.getMessage());
    }

    @Test
    void formatComesFromTheBytesNotTheName() throws IOException {
        Path f = tmp.resolve("actually-a-jpeg.png");
        Files.write(f, fixture("grey_64x64.jpg"));
        Picture p = ImageFiles.read(f);
        assertEquals(64, p.width());
        assertEquals(1, p.channels());
    }

    @Test
    void hasImageExtension() {
        assertTrue(ImageFiles.hasImageExtension(Path.of("a/B.JPEG")));
        assertTrue(ImageFiles.hasImageExtension(Path.of("x.png")));
        assertFalse(ImageFiles.hasImageExtension(Path.of("x.gif")));
    }

    /** Every common BufferedImage type gives the same RGB bytes (grey ones the same L bytes). */
    @Test
    void fromBufferedImageReadsEveryCommonType() {
        int w = 7;
        int h = 5;
        int[] colour = new int[w * h];
        for (int i = 0; i < colour.length; i++) {
            colour[i] = ((i * 37) & 0xff) << 16 | ((i * 91 + 13) & 0xff) << 8 | ((255 - i * 5) & 0xff);
        }
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < colour.length; i++) {
            rgb[3 * i] = (byte) (colour[i] >> 16);
            rgb[3 * i + 1] = (byte) (colour[i] >> 8);
            rgb[3 * i + 2] = (byte) colour[i];
        }
        for (int type : new int[] {BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_ARGB,
                BufferedImage.TYPE_INT_BGR, BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_4BYTE_ABGR}) {
            BufferedImage img = new BufferedImage(w, h, type);
            img.setRGB(0, 0, w, h, colour, 0, w);
            Picture p = ImageFiles.fromBufferedImage(img);
            assertEquals(3, p.channels(), "type " + type);
            assertArrayEquals(rgb, p.pixels(), "type " + type);
        }
        // alpha is dropped, not composited: a transparent red pixel stays red
        BufferedImage argb = new BufferedImage(1, 1, BufferedImage.TYPE_4BYTE_ABGR);
        argb.setRGB(0, 0, 0x00ff0000);
        assertArrayEquals(new byte[] {(byte) 255, 0, 0}, ImageFiles.fromBufferedImage(argb).pixels());

        BufferedImage grey = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        byte[] l = new byte[w * h];
        for (int i = 0; i < l.length; i++) {
            l[i] = (byte) (i * 7);
        }
        grey.getRaster().setDataElements(0, 0, w, h, l);
        assertArrayEquals(l, ImageFiles.fromBufferedImage(grey).pixels(), "samples as stored, no gamma");
        // a sub-image shares the parent's buffer: offsets must be honoured
        Picture sub = ImageFiles.fromBufferedImage(grey.getSubimage(2, 1, 3, 2));
        assertArrayEquals(new byte[] {l[9], l[10], l[11], l[16], l[17], l[18]}, sub.pixels());

        BufferedImage grey16 = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        grey16.getRaster().setSample(0, 0, 0, 0xabcd);
        grey16.getRaster().setSample(1, 0, 0, 0x0102);
        assertArrayEquals(new byte[] {(byte) 0xab, 1}, ImageFiles.fromBufferedImage(grey16).pixels());

        BufferedImage binary = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_BINARY);
        binary.setRGB(1, 0, Color.WHITE.getRGB());
        Picture b = ImageFiles.fromBufferedImage(binary);
        assertEquals(1, b.channels(), "a black-and-white palette is grey");
        assertArrayEquals(new byte[] {0, (byte) 255, 0}, b.pixels());

        BufferedImage indexed = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_INDEXED);
        indexed.setRGB(0, 0, 0xff0000);
        indexed.setRGB(1, 0, 0x0000ff);
        Picture ix = ImageFiles.fromBufferedImage(indexed);
        assertEquals(3, ix.channels());
        assertArrayEquals(new byte[] {(byte) 255, 0, 0, 0, 0, (byte) 255}, ix.pixels());
    }
}
