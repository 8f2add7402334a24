package dev.flora.image;

import java.util.Arrays;
import java.util.Random;

/**
 * How a model wants its input, as timm's {@code resolve_data_config} describes it, and the
 * transforms of timm's {@code create_transform}: eval = resize the shorter side to
 * {@code floor(imgSize / cropPct)}, center crop {@code imgSize}, scale to [0, 1], normalize;
 * train = RandomResizedCrop (scale 0.08–1, ratio 3/4–4/3) and a horizontal flip.
 * Output tensors are channel-major [C, imgSize, imgSize] with C = {@code mean.length}.
 */
public record Preprocessing(int imgSize, double cropPct, Interpolation interpolation, double[] mean, double[] std) {
    /** timm's DeiT defaults. */
    public static final double DEFAULT_CROP_PCT = 0.875;
    public static final Interpolation DEFAULT_INTERPOLATION = Interpolation.BICUBIC;

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

    /** timm's DeiT data config at {@code imgSize}: crop_pct 0.875, bicubic, ImageNet mean/std (0.5/0.5 for 1 channel). */
    public static Preprocessing timmDefaults(int imgSize, int channels) {
        double[] mean = channels == 3 ? new double[] {0.485, 0.456, 0.406} : filled(channels, 0.5);
        double[] std = channels == 3 ? new double[] {0.229, 0.224, 0.225} : filled(channels, 0.5);
        return new Preprocessing(imgSize, DEFAULT_CROP_PCT, DEFAULT_INTERPOLATION, mean, std);
    }

    private static double[] filled(int n, double v) {
        double[] out = new double[n];
        Arrays.fill(out, v);
        return out;
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

    /** The eval transform's [0, 1] tensor (before normalization), [C, imgSize, imgSize]. */
    public float[] evalUnit(Picture p) {
        float[] out = new float[imageFloats()];
        Picture crop = evalCrop(p);
        writePlanar(crop, out, 0, false, null, null);
        return out;
    }

    /** The eval transform, normalized, into {@code out} at {@code offset}. */
    public void evalInto(Picture p, float[] out, int offset) {
        writePlanar(evalCrop(p), out, offset, false, mean, std);
    }

    /** The train transform (RandomResizedCrop + flip, choices from {@code rng}), normalized. */
    public void trainInto(Picture p, Random rng, float[] out, int offset) {
        throw new UnsupportedOperationException("RandomResizedCrop not written yet");
    }

    /** Resize (shorter side to resizeSize, torchvision's rounding of the longer) then center crop. */
    Picture evalCrop(Picture p) {
        Picture src = p.toChannels(channels());
        int size = resizeSize();
        int w = src.width();
        int h = src.height();
        int rw;
        int rh;
        if (w <= h) {
            rw = size;
            rh = (int) ((long) size * h / w);
        } else {
            rh = size;
            rw = (int) ((long) size * w / h);
        }
        Picture resized = (rw == w && rh == h) ? src : Resampler.resize(src, rw, rh, interpolation);
        int top = (int) Math.round((rh - imgSize) / 2.0);
        int left = (int) Math.round((rw - imgSize) / 2.0);
        return crop(resized, left, top, imgSize, imgSize);
    }

    /** A window of {@code p}; pixels outside the image are black (torchvision pads a too-small image). */
    static Picture crop(Picture p, int left, int top, int w, int h) {
        int c = p.channels();
        byte[] out = new byte[w * h * c];
        for (int y = 0; y < h; y++) {
            int sy = top + y;
            if (sy < 0 || sy >= p.height()) {
                continue;
            }
            for (int x = 0; x < w; x++) {
                int sx = left + x;
                if (sx >= 0 && sx < p.width()) {
                    System.arraycopy(p.pixels(), (sy * p.width() + sx) * c, out, (y * w + x) * c, c);
                }
            }
        }
        return new Picture(w, h, c, out);
    }

    /** Interleaved bytes to planar floats: v/255, then (v − mean)/std when {@code m} is given. */
    static void writePlanar(Picture p, float[] out, int offset, boolean flip, double[] m, double[] s) {
        int c = p.channels();
        int w = p.width();
        int h = p.height();
        byte[] px = p.pixels();
        for (int ch = 0; ch < c; ch++) {
            float scale = (float) (m == null ? 1 / 255.0 : 1 / (255.0 * s[ch]));
            float shift = (float) (m == null ? 0 : -m[ch] / s[ch]);
            int plane = offset + ch * w * h;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int sx = flip ? w - 1 - x : x;
                    out[plane + y * w + x] = (px[(y * w + sx) * c + ch] & 0xff) * scale + shift;
                }
            }
        }
    }
}
