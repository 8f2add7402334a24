package dev.flora.image;

import java.util.Arrays;
import java.util.Random;

/**
 * How a model wants its input, as timm's {@code resolve_data_config} describes it, and the
 * transforms of timm's {@code create_transform}: eval = resize the shorter side to
 * {@code floor(imgSize / cropPct)}, center crop {@code imgSize}, scale to [0, 1], normalize;
 * train = RandomResizedCrop (scale 0.08–1, ratio 3/4–4/3) and a horizontal flip. Resize and crop
 * follow torchvision 0.14 on PIL images to the byte (PreprocessingParityTest holds it).
 * Output tensors are channel-major [C, imgSize, imgSize] with C = {@code mean.length}.
 */
public record Preprocessing(int imgSize, double cropPct, Interpolation interpolation, double[] mean, double[] std) {
    /** timm's DeiT defaults. */
    public static final double DEFAULT_CROP_PCT = 0.875;
    public static final Interpolation DEFAULT_INTERPOLATION = Interpolation.BICUBIC;
    /** timm's IMAGENET_DEFAULT_MEAN and IMAGENET_DEFAULT_STD. */
    private static final double[] IMAGENET_MEAN = {0.485, 0.456, 0.406};
    private static final double[] IMAGENET_STD = {0.229, 0.224, 0.225};
    /** RandomResizedCrop's defaults, which timm keeps: area fraction and aspect ratio ranges. */
    private static final double MIN_SCALE = 0.08;
    private static final double MAX_SCALE = 1.0;
    private static final double MIN_RATIO = 3.0 / 4.0;
    private static final double MAX_RATIO = 4.0 / 3.0;

    public Preprocessing {
        if (imgSize <= 0) {
            throw new IllegalArgumentException("img_size must be positive, got " + imgSize);
        }
        if (!(cropPct > 0 && cropPct <= 1)) {
            throw new IllegalArgumentException("crop_pct must be in (0, 1], got " + cropPct);
        }
        if (mean.length != std.length || (mean.length != 1 && mean.length != 3)) {
            throw new IllegalArgumentException("mean and std need 1 or 3 values each, got " + mean.length + " and "
                    + std.length);
        }
        for (double s : std) {
            if (!(s > 0) || Double.isInfinite(s)) {
                throw new IllegalArgumentException("std values must be positive and finite, got " + Arrays.toString(std));
            }
        }
        mean = mean.clone();
        std = std.clone();
    }


    @Override
    public double[] mean() {
        return mean.clone();
    }

    @Override
    public double[] std() {
        return std.clone();
    }

    public int channels() {
        return mean.length;
    }

    /** Floats of one transformed image. */
    public int imageFloats() {
        return channels() * imgSize * imgSize;
    }

    /** The shorter side after the eval resize: floor(imgSize / cropPct), as timm computes it. */
    public int resizeSize() {
        return (int) Math.floor(imgSize / cropPct);
    }

    /** The eval transform's [0, 1] tensor (v / 255f as in ToTensor, no normalization), [C, imgSize, imgSize]. */
    public float[] evalUnit(Picture p) {
        float[] out = new float[imageFloats()];
        writePlanar(evalCrop(p), out, 0, false, unitTable(channels()));
        return out;
    }

    /** The eval transform, normalized, into {@code out} at {@code offset}. */
    public void evalInto(Picture p, float[] out, int offset) {
        writePlanar(evalCrop(p), out, offset, false, normalizationTable(mean, std));
    }

    /**
     * The train transform, normalized, into {@code out} at {@code offset}: torchvision's
     * RandomResizedCrop(imgSize, scale (0.08, 1), ratio (3/4, 4/3)) (a window of the picture,
     * resized to imgSize²) then RandomHorizontalFlip(0.5); every choice comes from {@code rng}.
     */
    public void trainInto(Picture p, Random rng, float[] out, int offset) {
        Picture src = beforeResize(p);
        int[] box = randomResizedCropBox(src.width(), src.height(), rng);
        Picture window = crop(src, box[0], box[1], box[2], box[3]);
        Picture resized = Resampler.resize(window, imgSize, imgSize, interpolation).toChannels(channels());
        boolean flip = rng.nextBoolean();
        writePlanar(resized, out, offset, flip, normalizationTable(mean, std));
    }

    /**
     * timm's defaults for a model without preprocessing metadata: crop_pct 0.875, bicubic, and
     * ImageNet's mean and std for 3 channels (0.5 and 0.5 for 1).
     */
    public static Preprocessing timmDefaults(int imgSize, int channels) {
        if (channels == 3) {
            return new Preprocessing(imgSize, DEFAULT_CROP_PCT, DEFAULT_INTERPOLATION, IMAGENET_MEAN, IMAGENET_STD);
        }
        if (channels == 1) {
            return new Preprocessing(imgSize, DEFAULT_CROP_PCT, DEFAULT_INTERPOLATION, new double[] {0.5},
                    new double[] {0.5});
        }
        throw new IllegalArgumentException("timm defaults exist for 1 or 3 channels, got " + channels);
    }

    /**
     * torchvision's RandomResizedCrop.get_params: up to 10 draws of an area fraction (uniform in
     * [0.08, 1)) and an aspect ratio (log-uniform in [3/4, 4/3)); the first window that fits is
     * placed uniformly; else the largest centred window of a ratio in range. {left, top, w, h}.
     */
    static int[] randomResizedCropBox(int width, int height, Random rng) {
        double area = (double) width * height;
        double logLo = Math.log(MIN_RATIO);
        double logHi = Math.log(MAX_RATIO);
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (MIN_SCALE + (MAX_SCALE - MIN_SCALE) * rng.nextDouble());
            double ratio = Math.exp(logLo + (logHi - logLo) * rng.nextDouble());
            int w = (int) Math.rint(Math.sqrt(target * ratio));
            int h = (int) Math.rint(Math.sqrt(target / ratio));
            if (0 < w && w <= width && 0 < h && h <= height) {
                int top = rng.nextInt(height - h + 1);
                int left = rng.nextInt(width - w + 1);
                return new int[] {left, top, w, h};
            }
        }
        double inRatio = (double) width / height;
        int w = width;
        int h = height;
        if (inRatio < MIN_RATIO) {
            h = (int) Math.rint(w / MIN_RATIO);
        } else if (inRatio > MAX_RATIO) {
            w = (int) Math.rint(h * MAX_RATIO);
        }
        return new int[] {(width - w) / 2, (height - h) / 2, w, h};
    }

    /**
     * torchvision's Resize(resizeSize) (shorter side; the longer one int(size · long / short);
     * skipped when the size already matches) then CenterCrop(imgSize), computed as one window
     * of the resize so the rows and columns the crop drops are never resampled.
     */
    Picture evalCrop(Picture p) {
        Picture src = beforeResize(p);
        int size = resizeSize();
        int w = src.width();
        int h = src.height();
        int rw;
        int rh;
        if (w <= h) {
            rw = size;
            rh = (int) ((double) size * h / w);
        } else {
            rh = size;
            rw = (int) ((double) size * w / h);
        }
        int left = centerCropOffset(rw, imgSize);
        int top = centerCropOffset(rh, imgSize);
        Picture out = rw == w && rh == h ? crop(src, left, top, imgSize, imgSize)
                : Resampler.resizeWindow(src, rw, rh, interpolation, left, top, imgSize, imgSize);
        return out.toChannels(channels());
    }

    /**
     * The picture in the channels the resize should see. PIL converts to the model's mode first;
     * a grey picture for an RGB model is resized as L and copied into R, G and B afterwards,
     * which gives the same bytes in a third of the time (the three channels would be equal).
     */
    private Picture beforeResize(Picture p) {
        return p.channels() == 1 ? p : p.toChannels(channels());
    }

    /**
     * Where torchvision's center_crop starts a crop of {@code crop} in a side of {@code size}:
     * int(round((size − crop) / 2.0)), Python's round being half-to-even; a side shorter than
     * the crop is padded with (crop − size) // 2 on the left/top.
     */
    static int centerCropOffset(int size, int crop) {
        if (crop > size) {
            return -((crop - size) / 2);
        }
        return (int) Math.rint((size - crop) / 2.0);
    }

    /** A window of {@code p}; pixels outside the image are black (torchvision pads a too-small image). */
    static Picture crop(Picture p, int left, int top, int w, int h) {
        int c = p.channels();
        byte[] out = new byte[w * h * c];
        int x0 = Math.max(0, left);
        int x1 = Math.min(p.width(), left + w);
        if (x0 < x1) {
            for (int y = Math.max(0, top); y < Math.min(p.height(), top + h); y++) {
                System.arraycopy(p.pixels(), (y * p.width() + x0) * c, out, ((y - top) * w + x0 - left) * c,
                        (x1 - x0) * c);
            }
        }
        return new Picture(w, h, c, out);
    }

    /**
     * (v / 255 − mean) / std per channel and byte value, computed in double and rounded once to
     * float: the one table every path from bytes to model input uses (the transforms here, the
     * in-memory batches of {@code dev.flora.data.BatchLoader}, raw pixels in the embedding API),
     * so they all give identical floats.
     */
    public float[][] normalizationTable() {
        return normalizationTable(mean, std);
    }

    /** {@link #normalizationTable()} for these mean and std values. */
    public static float[][] normalizationTable(double[] m, double[] s) {
        float[][] t = new float[m.length][256];
        for (int c = 0; c < m.length; c++) {
            for (int v = 0; v < 256; v++) {
                t[c][v] = (float) ((v / 255.0 - m[c]) / s[c]);
            }
        }
        return t;
    }

    /** v / 255f per byte value, as torchvision's ToTensor divides. */
    private static float[][] unitTable(int channels) {
        float[][] t = new float[channels][256];
        for (int c = 0; c < channels; c++) {
            for (int v = 0; v < 256; v++) {
                t[c][v] = v / 255f;
            }
        }
        return t;
    }

    /** Interleaved bytes to planar floats through a per-channel table, mirrored in x when {@code flip}. */
    static void writePlanar(Picture p, float[] out, int offset, boolean flip, float[][] table) {
        int c = p.channels();
        int w = p.width();
        int h = p.height();
        byte[] px = p.pixels();
        for (int ch = 0; ch < c; ch++) {
            float[] t = table[ch];
            int plane = offset + ch * w * h;
            for (int y = 0; y < h; y++) {
                int row = y * w;
                for (int x = 0; x < w; x++) {
                    int sx = flip ? w - 1 - x : x;
                    out[plane + row + x] = t[px[(row + sx) * c + ch] & 0xff];
                }
            }
        }
    }
}
