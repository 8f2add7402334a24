package dev.flora.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.flora.image.Interpolation;
import dev.flora.image.Preprocessing;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BatchLoaderTest {
    /** Images at their own size, one channel normalized by (mean, std). */
    private static Preprocessing pre(int size, double mean, double std) {
        return new Preprocessing(size, 1.0, Interpolation.BICUBIC, new double[] {mean}, new double[] {std});
    }

    /** Four 3x3 single-channel images whose pixels encode (image, row, col). */
    private static ImageDataset grid() {
        byte[] px = new byte[4 * 9];
        for (int i = 0; i < 4; i++) {
            for (int p = 0; p < 9; p++) {
                px[i * 9 + p] = (byte) (i * 50 + p + 1);
            }
        }
        return new ImageDataset("grid", px, new int[] {0, 1, 2, 3}, 1, 3, 3, 10);
    }

    @Test
    void normalizesInOrderWithoutAugmentation() {
        BatchLoader l = BatchLoader.forEvaluation(grid(), pre(3, 0.5, 0.25), 3);
        assertEquals(2, l.batchesPerEpoch());
        float[] img = new float[3 * 9];
        int[] lab = new int[3];
        BatchLoader.Epoch e = l.epoch(0);
        assertEquals(3, e.fill(0, img, lab));
        assertArrayEquals(new int[] {0, 1, 2}, lab);
        assertEquals((1 / 255.0 - 0.5) / 0.25, img[0], 1e-6);
        assertEquals((59 / 255.0 - 0.5) / 0.25, img[9 + 8], 1e-6);
        assertEquals(1, e.fill(1, img, lab), "the last partial batch is kept for evaluation");
    }

    @Test
    void augmentationIsSeededPerEpochAndBatch() {
        BatchLoader a = new BatchLoader(grid(), pre(3, 0, 1), 2, true, true, 1, true, 7);
        BatchLoader b = new BatchLoader(grid(), pre(3, 0, 1), 2, true, true, 1, true, 7);
        assertEquals(2, a.batchesPerEpoch());
        float[] x = new float[18];
        float[] y = new float[18];
        int[] lx = new int[2];
        int[] ly = new int[2];
        a.epoch(3).fill(1, x, lx);
        b.epoch(3).fill(1, y, ly);
        assertArrayEquals(x, y, "same seed, epoch and batch give the same batch");
        assertArrayEquals(lx, ly);
        boolean differs = false;
        for (int ep = 0; ep < 5 && !differs; ep++) {
            b.epoch(ep + 10).fill(1, y, ly);
            differs = !Arrays.equals(x, y);
        }
        assertFalse(!differs, "other epochs shuffle and augment differently");
    }

    @Test
    void cropShiftsWithBlackPaddingAndFlipMirrors() {
        ImageDataset one = new ImageDataset("one", new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, new int[] {0}, 1, 3, 3, 10);
        // find, by trying seeds, a batch whose augmentation is a pure flip and one with a shift
        boolean sawFlip = false;
        boolean sawShift = false;
        for (long seed = 0; seed < 200 && !(sawFlip && sawShift); seed++) {
            BatchLoader l = new BatchLoader(one, pre(3, 0, 1 / 255.0), 1, false, false, 1, true,
                    seed);
            float[] out = new float[9];
            l.epoch(0).fill(0, out, new int[1]);
            if (Arrays.equals(out, new float[] {3, 2, 1, 6, 5, 4, 9, 8, 7})) {
                sawFlip = true;
            }
            if (Arrays.equals(out, new float[] {0, 0, 0, 1, 2, 3, 4, 5, 6})) {
                sawShift = true; // shifted down one row, black row on top
            }
        }
        assertEquals(true, sawFlip, "a horizontal flip mirrors each row");
        assertEquals(true, sawShift, "a crop shift brings in black padding");
    }
}
