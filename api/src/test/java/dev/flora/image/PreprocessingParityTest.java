package dev.flora.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The eval transform against torchvision 0.14 + Pillow 9 on the committed fixtures: PIL decode,
 * convert("RGB"), Resize(floor(size / crop_pct)), CenterCrop(size), ToTensor. The acceptance
 * figure: for PNG, ≥ 99.9 % of values within 1/255 and all within 2/255; for JPEG (where the
 * decoders differ too) the bound measured on these files, stated below.
 */
class PreprocessingParityTest {
    /**
     * JPEG bound. Measured on 2026-12-04: 0 differences (JDK 17's libjpeg 6b behind TwelveMonkeys
     * decodes these 4:2:0, 4:4:4, progressive, grey and CMYK files exactly as Debian 12's
     * libjpeg-turbo 2.1 under PIL does). The bound leaves room for the decoders' known
     * difference, h1v2 (4:4:0) chroma upsampling, which is smooth in libjpeg-turbo only.
     */
    private static final double JPEG_MIN_WITHIN_1 = 0.999;
    private static final int JPEG_MAX_ERROR = 2;

    @Test
    void evalTransformMatchesTorchvision() {
        long[] n = new long[2];
        long[] within1 = new long[2];
        int[] max = new int[2];
        for (JsonNode f : Fixtures.index().get("fixtures")) {
            String file = f.get("file").asText();
            int kind = file.endsWith(".png") ? 0 : 1;
            Picture p = ImageFiles.read(Fixtures.dir().resolve(file));
            for (JsonNode e : f.get("expected")) {
                Preprocessing pp = new Preprocessing(e.get("img_size").asInt(), e.get("crop_pct").asDouble(),
                        Interpolation.parse(e.get("interpolation").asText()), new double[] {0, 0, 0},
                        new double[] {1, 1, 1});
                byte[] want = Fixtures.bytes(e.get("file").asText());
                float[] got = pp.evalUnit(p);
                assertEquals(want.length, got.length, file);
                int worst = 0;
                long ok = 0;
                for (int i = 0; i < want.length; i++) {
                    int d = Math.abs(Math.round(got[i] * 255) - (want[i] & 0xff));
                    worst = Math.max(worst, d);
                    ok += d <= 1 ? 1 : 0;
                }
                n[kind] += want.length;
                within1[kind] += ok;
                max[kind] = Math.max(max[kind], worst);
                System.out.printf(Locale.ROOT, "parity %-20s %-9s %3d: within 1/255 %.5f, max %d/255%n", file,
                        e.get("interpolation").asText(), pp.imgSize(), (double) ok / want.length, worst);
            }
        }
        double png = (double) within1[0] / n[0];
        double jpeg = (double) within1[1] / n[1];
        System.out.printf(Locale.ROOT, "parity PNG: %d values, within 1/255 %.5f, max %d/255; "
                + "JPEG: %d values, within 1/255 %.5f, max %d/255%n", n[0], png, max[0], n[1], jpeg, max[1]);
        assertTrue(png >= 0.999 && max[0] <= 2, "PNG parity " + png + ", max " + max[0]);
        assertTrue(jpeg >= JPEG_MIN_WITHIN_1 && max[1] <= JPEG_MAX_ERROR, "JPEG parity " + jpeg + ", max " + max[1]);
    }

    /** The decoder alone: JPEG fixtures against PIL's decode of the same file (RGB). */
    @Test
    void jpegDecodeMatchesPil() {
        for (JsonNode f : Fixtures.index().get("fixtures")) {
            if (!f.has("decoded")) {
                continue;
            }
            String file = f.get("file").asText();
            Picture p = ImageFiles.read(Fixtures.dir().resolve(file));
            assertEquals(f.get("width").asInt(), p.width(), file);
            assertEquals(f.get("height").asInt(), p.height(), file);
            assertEquals(f.get("mode").asText().equals("L") ? 1 : 3, p.channels(), file);
            byte[] want = Fixtures.bytes(f.get("decoded").asText());
            byte[] got = p.toChannels(3).pixels();
            int worst = 0;
            long differ = 0;
            for (int i = 0; i < want.length; i++) {
                int d = Math.abs((got[i] & 0xff) - (want[i] & 0xff));
                worst = Math.max(worst, d);
                differ += d > 0 ? 1 : 0;
            }
            System.out.printf(Locale.ROOT, "decode %-20s (%s): %d of %d samples differ from PIL, max %d%n", file,
                    f.get("mode").asText(), differ, want.length, worst);
            assertTrue(worst <= JPEG_MAX_ERROR, file + ": decode differs from PIL by " + worst);
        }
    }

    @Test
    void pngDecodeKeepsGreyAsOneChannel() {
        for (JsonNode f : Fixtures.index().get("fixtures")) {
            String mode = f.get("mode").asText();
            Picture p = ImageFiles.read(Fixtures.dir().resolve(f.get("file").asText()));
            int want = mode.equals("L") || mode.equals("LA") ? 1 : 3;
            assertEquals(want, p.channels(), f.get("file").asText() + " (" + mode + ")");
        }
    }

    @Test
    void resamplerMatchesPillow() {
        for (JsonNode c : Fixtures.index().get("resize")) {
            Picture src = new Picture(c.get("width").asInt(), c.get("height").asInt(), c.get("channels").asInt(),
                    Fixtures.bytes(c.get("input").asText()));
            int ow = c.get("size").get(0).asInt();
            int oh = c.get("size").get(1).asInt();
            Interpolation f = Interpolation.parse(c.get("interpolation").asText());
            JsonNode b = c.get("box");
            Picture got = b.isNull() ? Resampler.resize(src, ow, oh, f)
                    : Resampler.resize(src, b.get(0).asDouble(), b.get(1).asDouble(),
                            b.get(2).asDouble() - b.get(0).asDouble(), b.get(3).asDouble() - b.get(1).asDouble(),
                            ow, oh, f);
            assertArrayEquals(Fixtures.bytes(c.get("file").asText()), got.pixels(), c.get("file").asText());
        }
    }
}
