package dev.flora.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PreprocessingTest {
    private static Picture noise(int w, int h, int c, long seed) {
        byte[] px = new byte[w * h * c];
        new Random(seed).nextBytes(px);
        return new Picture(w, h, c, px);
    }

    @Test
    void trainTransformIsDeterministicPerSeedAndNormalized() {
        Preprocessing pp = Preprocessing.timmDefaults(24, 3);
        Picture p = noise(50, 37, 3, 1);
        float[] a = new float[2 * pp.imageFloats()];
        float[] b = new float[2 * pp.imageFloats()];
        Random ra = new Random(42);
        Random rb = new Random(42);
        pp.trainInto(p, ra, a, 0);
        pp.trainInto(p, ra, a, pp.imageFloats());
        pp.trainInto(p, rb, b, 0);
        pp.trainInto(p, rb, b, pp.imageFloats());
        assertArrayEquals(a, b, "same seed, same crops and flips");
        float[] c = new float[pp.imageFloats()];
        pp.trainInto(p, new Random(43), c, 0);
        assertFalse(Arrays.equals(Arrays.copyOf(a, c.length), c), "another seed, another crop");
        float lo = (float) ((0 - 0.485) / 0.229);
        float hi = (float) ((1 - 0.406) / 0.225);
        for (float v : a) {
            assertTrue(v >= lo - 1e-6 && v <= hi + 1e-6, "value " + v + " outside the normalized byte range");
        }
    }

    @Test
    void randomResizedCropBoxesFitAndFollowTheRanges() {
        Random rng = new Random(7);
        int w = 500;
        int h = 375;
        for (int i = 0; i < 2000; i++) {
            int[] b = Preprocessing.randomResizedCropBox(w, h, rng);
            assertTrue(b[0] >= 0 && b[1] >= 0 && b[2] > 0 && b[3] > 0 && b[0] + b[2] <= w && b[1] + b[3] <= h,
                    Arrays.toString(b));
            double area = (double) b[2] * b[3] / (w * h);
            double ratio = (double) b[2] / b[3];
            assertTrue(area > 0.07 && area <= 1.0 && ratio > 0.74 && ratio < 1.36, Arrays.toString(b));
        }
        // a 1×100 strip never fits a ratio in [3/4, 4/3]: the fallback is the centred 1×1 window
        assertArrayEquals(new int[] {0, 49, 1, 1}, Preprocessing.randomResizedCropBox(1, 100, new Random(1)));
        // too wide: full height, width = round(height · 4/3), centred
        assertArrayEquals(new int[] {42, 0, 16, 12}, Preprocessing.randomResizedCropBox(100, 12, new Random(1)));
    }

    @Test
    void centerCropOffsetsRoundHalfToEvenAndPadAsTorchvision() {
        assertEquals(58, Preprocessing.centerCropOffset(341, 224), "58.5 rounds to 58, as Python's round");
        assertEquals(60, Preprocessing.centerCropOffset(345, 224), "60.5 rounds to 60");
        assertEquals(59, Preprocessing.centerCropOffset(342, 224));
        assertEquals(0, Preprocessing.centerCropOffset(224, 224));
        assertEquals(-5, Preprocessing.centerCropOffset(21, 32), "pad (32 - 21) // 2 = 5 on the left");
        assertEquals(-6, Preprocessing.centerCropOffset(20, 32));
    }

    /** The eval resize never leaves a side shorter than the crop; the crop still pads as torchvision's would. */
    @Test
    void cropOutsideThePictureIsBlack() {
        Picture p = new Picture(2, 1, 1, new byte[] {7, 9});
        Picture c = Preprocessing.crop(p, -1, -1, 4, 3);
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 7, 9, 0, 0, 0, 0, 0}, c.pixels());
    }

    @Test
    void normalizationIsBatchLoadersTable() {
        double[] mean = {0.485, 0.456, 0.406};
        double[] std = {0.229, 0.224, 0.225};
        Preprocessing pp = new Preprocessing(4, 1.0, Interpolation.BICUBIC, mean, std);
        byte[] px = new byte[4 * 4 * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 5);
        }
        Picture p = new Picture(4, 4, 3, px);
        float[] out = new float[pp.imageFloats()];
        pp.evalInto(p, out, 0);
        float[] unit = pp.evalUnit(p);
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 16; i++) {
                int v = px[i * 3 + c] & 0xff;
                assertEquals((float) ((v / 255.0 - mean[c]) / std[c]), out[c * 16 + i]);
                assertEquals(v / 255f, unit[c * 16 + i]);
            }
        }
    }

    @Test
    void evalSkipsTheResizeWhenTheShorterSideMatches() {
        Preprocessing pp = new Preprocessing(4, 0.5, Interpolation.BICUBIC, new double[] {0}, new double[] {1});
        Picture p = noise(8, 9, 1, 3); // shorter side 8 = floor(4 / 0.5): only the crop, at (2, 2)
        float[] u = pp.evalUnit(p);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                assertEquals((p.pixels()[(y + 2) * 8 + x + 2] & 0xff) / 255f, u[y * 4 + x]);
            }
        }
    }

    @Test
    void timmDefaults() {
        Preprocessing rgb = Preprocessing.timmDefaults(224, 3);
        assertEquals(256, rgb.resizeSize());
        assertEquals(Interpolation.BICUBIC, rgb.interpolation());
        assertArrayEquals(new double[] {0.485, 0.456, 0.406}, rgb.mean());
        assertArrayEquals(new double[] {0.5}, Preprocessing.timmDefaults(28, 1).std());
        assertThrows(IllegalArgumentException.class, () -> Preprocessing.timmDefaults(28, 2));
    }

    @Test
    void greyPicturesFeedRgbModelsAndBack() {
        Preprocessing rgb = Preprocessing.timmDefaults(8, 3);
        Preprocessing grey = Preprocessing.timmDefaults(8, 1);
        assertEquals(3 * 64, rgb.evalUnit(noise(9, 11, 1, 5)).length);
        assertEquals(64, grey.evalUnit(noise(9, 11, 3, 5)).length);
    }

    @Test
    void unknownInterpolationNamesTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Interpolation.parse("lanczos"));
        assertEquals("unknown interpolation 'lanczos' (expected nearest, bilinear or bicubic)", e.getMessage());
        assertEquals(Interpolation.BICUBIC, Interpolation.parse(" Bicubic "));
    }
}
