package dev.flora.data;

import dev.flora.engine.io.FormatException;
import dev.flora.image.Picture;
import dev.flora.image.Preprocessing;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Turns an {@link ImageSource} into normalized float batches [B, C, H, W] with a seeded
 * shuffle per epoch. Two paths:
 * <ul>
 * <li>images already at the model's size in memory (IDX, CIFAR at 32 px): a lookup-table
 * normalization, and for training light augmentation (random crop from the image padded by
 * {@code cropPadding} pixels of black, horizontal flip), as small-image recipes train;
 * <li>anything else (image files, other sizes): the model's {@link Preprocessing} — timm's eval
 * transform, or RandomResizedCrop + flip for training — decoded and transformed on worker
 * threads a few batches ahead of the model, so memory stays bounded by those batches.
 * </ul>
 * Every random choice derives from (seed, epoch, batch, image), so an epoch is reproducible on
 * its own whatever the threads do, which is what makes resuming from an epoch checkpoint exact.
 */
public final class BatchLoader {
    /** Decoding threads, shared by every loader ({@code -Dflora.dataThreads}). */
    static final int THREADS = Integer.getInteger("flora.dataThreads", Runtime.getRuntime().availableProcessors());
    /** Batches decoded ahead of the one the model asks for. */
    static final int AHEAD = THREADS + 1;
    private static final ExecutorService WORKERS = Executors.newFixedThreadPool(THREADS, r -> {
        Thread t = new Thread(r, "flora-decode");
        t.setDaemon(true);
        return t;
    });

    private final ImageSource data;
    private final Preprocessing pre;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final int cropPadding;
    private final boolean hflip;
    private final long seed;
    /** The in-memory images when they are at the model's size, else null (the transform path). */
    private final ImageDataset direct;
    /** Normalized value of each byte value, per channel. */
    private final float[][] lut;

    public BatchLoader(ImageSource data, Preprocessing pre, int batchSize, boolean shuffle, boolean dropLast,
                       int cropPadding, boolean hflip, long seed) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        this.data = data;
        this.pre = pre;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.cropPadding = cropPadding;
        this.hflip = hflip;
        this.seed = seed;
        boolean augment = cropPadding > 0 || hflip;
        int s = pre.imgSize();
        // at the model's size, eval's resize-and-crop is the identity only when crop_pct keeps the size
        this.direct = data instanceof ImageDataset d && d.height() == s && d.width() == s
                && d.channels() == pre.channels() && (augment || pre.resizeSize() == s) ? d : null;
        this.lut = pre.normalizationTable();
    }

    /** An evaluation loader: no shuffle, no augmentation, keeps the last partial batch. */
    public static BatchLoader forEvaluation(ImageSource data, Preprocessing pre, int batchSize) {
        return new BatchLoader(data, pre, batchSize, false, false, 0, false, 0);
    }

    public int batchSize() {
        return batchSize;
    }

    public int batchesPerEpoch() {
        int n = data.count();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    public int imageFloats() {
        return pre.imageFloats();
    }

    /** The order in which epoch {@code epoch} visits the images. */
    private int[] order(int epoch) {
        return Seeds.permutation(data.count(), shuffle ? new Random(Seeds.mix(seed, epoch, -1)) : null);
    }

    /** Per-epoch view that fills batches into caller buffers. */
    public Epoch epoch(int epoch) {
        return new Epoch(epoch, order(epoch));
    }

    /** One decoded batch of the transform path. */
    private record Batch(float[] images, int[] labels, int size) {
    }

    /** One pass over the data. */
    public final class Epoch {
        private final int epoch;
        private final int[] order;
        private final Map<Integer, Future<Batch>> pending = new HashMap<>();

        private Epoch(int epoch, int[] order) {
            this.epoch = epoch;
            this.order = order;
        }

        /**
         * Fills batch {@code b} into {@code images} ([size, C, H, W] floats) and {@code labels};
         * returns its size.
         */
        public int fill(int b, float[] images, int[] labels) {
            if (direct != null) {
                return fillDirect(b, images, labels);
            }
            int last = Math.min(batchesPerEpoch(), b + AHEAD);
            for (int k = b; k < last; k++) {
                int batch = k;
                pending.computeIfAbsent(k, x -> WORKERS.submit(() -> transform(batch)));
            }
            Batch r = await(pending.remove(b));
            System.arraycopy(r.images(), 0, images, 0, r.size() * pre.imageFloats());
            System.arraycopy(r.labels(), 0, labels, 0, r.size());
            return r.size();
        }

        private Batch await(Future<Batch> f) {
            try {
                return f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a batch", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                throw new IllegalStateException("decoding a batch failed", e.getCause());
            }
        }

        private int size(int b) {
            return Math.min(batchSize, data.count() - b * batchSize);
        }

        /** Decodes and transforms batch {@code b} (on a worker thread). */
        private Batch transform(int b) {
            int size = size(b);
            int floats = pre.imageFloats();
            float[] images = new float[size * floats];
            int[] labels = new int[size];
            boolean augment = cropPadding > 0 || hflip;
            int[] all = data.labels();
            for (int i = 0; i < size; i++) {
                int idx = order[b * batchSize + i];
                labels[i] = all[idx];
                Picture p = data.picture(idx);
                if (augment) {
                    pre.trainInto(p, new Random(Seeds.mix(seed, epoch, (long) b * batchSize + i)), images, i * floats);
                } else {
                    pre.evalInto(p, images, i * floats);
                }
            }
            return new Batch(images, labels, size);
        }

        private int fillDirect(int b, float[] images, int[] labels) {
            int start = b * batchSize;
            int size = size(b);
            Random rng = cropPadding > 0 || hflip ? new Random(Seeds.mix(seed, epoch, b)) : null;
            int px = direct.imageBytes();
            for (int i = 0; i < size; i++) {
                int idx = order[start + i];
                labels[i] = direct.labels()[idx];
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
        int h = direct.height();
        int w = direct.width();
        byte[] px = direct.pixels();
        for (int c = 0; c < direct.channels(); c++) {
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
