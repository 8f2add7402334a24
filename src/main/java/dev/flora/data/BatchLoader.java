package dev.flora.data;

import java.util.Random;

/**
 * Turns an {@link ImageDataset} into normalized float batches [B, C, H, W]: per-channel
 * (pixel/255 − mean)/std, a seeded shuffle per epoch, and light augmentation for training
 * (random crop from the image padded by {@code cropPadding} pixels of black, horizontal flip).
 * Every random choice derives from (seed, epoch, batch), so an epoch is reproducible on its
 * own, which is what makes resuming from an epoch checkpoint exact.
 */
public final class BatchLoader {
    private final ImageDataset data;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final int cropPadding;
    private final boolean hflip;
    private final long seed;
    /** Normalized value of each byte value, per channel. */
    private final float[][] lut;

    public BatchLoader(ImageDataset data, double[] mean, double[] std, int batchSize, boolean shuffle,
                       boolean dropLast, int cropPadding, boolean hflip, long seed) {
        if (mean.length != data.channels() || std.length != data.channels()) {
            throw new IllegalArgumentException(data.name() + " has " + data.channels() + " channels but the model "
                    + "normalizes " + mean.length);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        this.data = data;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.cropPadding = cropPadding;
        this.hflip = hflip;
        this.seed = seed;
        this.lut = new float[data.channels()][256];
        for (int c = 0; c < data.channels(); c++) {
            for (int v = 0; v < 256; v++) {
                lut[c][v] = (float) ((v / 255.0 - mean[c]) / std[c]);
            }
        }
    }

    /** An evaluation loader: no shuffle, no augmentation, keeps the last partial batch. */
    public static BatchLoader forEvaluation(ImageDataset data, double[] mean, double[] std, int batchSize) {
        return new BatchLoader(data, mean, std, batchSize, false, false, 0, false, 0);
    }

    public int batchSize() {
        return batchSize;
    }

    public int batchesPerEpoch() {
        int n = data.count();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    public int imageFloats() {
        return data.imageBytes();
    }

    /** The order in which epoch {@code epoch} visits the images. */
    private int[] order(int epoch) {
        return Seeds.permutation(data.count(), shuffle ? new Random(Seeds.mix(seed, epoch, -1)) : null);
    }

    /** Per-epoch view that fills batches into caller buffers. */
    public Epoch epoch(int epoch) {
        return new Epoch(epoch, order(epoch));
    }

    /** One pass over the data. */
    public final class Epoch {
        private final int epoch;
        private final int[] order;

        private Epoch(int epoch, int[] order) {
            this.epoch = epoch;
            this.order = order;
        }

        /**
         * Fills batch {@code b} into {@code images} ([size, C, H, W] floats) and {@code labels};
         * returns its size.
         */
        public int fill(int b, float[] images, int[] labels) {
            int start = b * batchSize;
            int size = Math.min(batchSize, data.count() - start);
            Random rng = cropPadding > 0 || hflip ? new Random(Seeds.mix(seed, epoch, b)) : null;
            int px = data.imageBytes();
            for (int i = 0; i < size; i++) {
                int idx = order[start + i];
                labels[i] = data.labels()[idx];
                int ox = 0;
                int oy = 0;
                boolean flip = false;
                if (rng != null) {
                    if (cropPadding > 0) {
                        ox = rng.nextInt(2 * cropPadding + 1) - cropPadding;
                        oy = rng.nextInt(2 * cropPadding + 1) - cropPadding;
                    }
                    flip = hflip && rng.nextBoolean();
                }
                writeImage(idx * px, images, i * px, ox, oy, flip);
            }
            return size;
        }
    }

    /** Output pixel (y, x) reads input (y + oy, x + ox) (mirrored in x if flipped), black outside. */
    private void writeImage(int src, float[] out, int dst, int ox, int oy, boolean flip) {
        int h = data.height();
        int w = data.width();
        byte[] px = data.pixels();
        for (int c = 0; c < data.channels(); c++) {
            float[] table = lut[c];
            int plane = c * h * w;
            for (int y = 0; y < h; y++) {
                int sy = y + oy;
                for (int x = 0; x < w; x++) {
                    int sx = (flip ? w - 1 - x : x) + ox;
                    int v = sy >= 0 && sy < h && sx >= 0 && sx < w ? px[src + plane + sy * w + sx] & 0xff : 0;
                    out[dst + plane + y * w + x] = table[v];
                }
            }
        }
    }
}
