package dev.flora.image;

/**
 * Resizes pictures. PLACEHOLDER: point sampling only, to be replaced by PIL's antialiased
 * resampling (Image.resize with a reducing box) before issue 24 closes.
 */
public final class Resampler {
    private Resampler() {
    }

    /** The region (x0, y0, w, h) of {@code src} resized to {@code outW × outH}, as PIL's resize(size, filter, box). */
    public static Picture resize(Picture src, double x0, double y0, double w, double h, int outW, int outH,
                                 Interpolation filter) {
        int c = src.channels();
        byte[] out = new byte[outW * outH * c];
        for (int y = 0; y < outH; y++) {
            int sy = Math.min(src.height() - 1, (int) (y0 + (y + 0.5) * h / outH));
            for (int x = 0; x < outW; x++) {
                int sx = Math.min(src.width() - 1, (int) (x0 + (x + 0.5) * w / outW));
                System.arraycopy(src.pixels(), (sy * src.width() + sx) * c, out, (y * outW + x) * c, c);
            }
        }
        return new Picture(outW, outH, c, out);
    }

    /** The whole of {@code src} resized to {@code outW × outH}. */
    public static Picture resize(Picture src, int outW, int outH, Interpolation filter) {
        return resize(src, 0, 0, src.width(), src.height(), outW, outH, filter);
    }
}
