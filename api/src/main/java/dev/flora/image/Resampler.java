package dev.flora.image;

/**
 * Resizes pictures as Pillow's {@code Image.resize(size, resample, box)} does for 8-bit L and RGB
 * images (Pillow 9, {@code libImaging/Resample.c}): a separable convolution, horizontal pass
 * first, whose filter support widens by the downscale factor (antialiasing); coefficients
 * normalized to sum 1 and then to 22-bit fixed point; each pass rounds and clips to uint8.
 * NEAREST is Pillow's affine point sampling, and a box of the output's size at integer offsets
 * is a plain crop, as in Pillow.
 */
public final class Resampler {
    /** Pillow's fixed-point precision for 8-bit images (32 − 8 − 2 bits). */
    private static final int PRECISION_BITS = 22;
    private static final int HALF = 1 << (PRECISION_BITS - 1);

    private Resampler() {
    }

    /**
     * The region (x0, y0, w, h) of {@code src} resized to {@code outW × outH}, as PIL's
     * {@code resize((outW, outH), filter, box=(x0, y0, x0 + w, y0 + h))}; like PIL, the box
     * corners are taken in single precision.
     */
    public static Picture resize(Picture src, double x0, double y0, double w, double h, int outW, int outH,
                                 Interpolation filter) {
        return resizeWindow(src, (float) x0, (float) y0, (float) (x0 + w), (float) (y0 + h), outW, outH, filter,
                0, 0, outW, outH);
    }

    /** The whole of {@code src} resized to {@code outW × outH}. */
    public static Picture resize(Picture src, int outW, int outH, Interpolation filter) {
        return resize(src, 0, 0, src.width(), src.height(), outW, outH, filter);
    }

    /**
     * The window {@code (left, top, winW, winH)} of {@code src} resized to {@code outW × outH}:
     * exactly the pixels a crop of the full resize would hold (black outside the resized image),
     * computed without resizing the parts the crop drops.
     */
    static Picture resizeWindow(Picture src, int outW, int outH, Interpolation filter,
                                int left, int top, int winW, int winH) {
        return resizeWindow(src, 0f, 0f, src.width(), src.height(), outW, outH, filter, left, top, winW, winH);
    }

    private static Picture resizeWindow(Picture src, float bx0, float by0, float bx1, float by1, int outW, int outH,
                                        Interpolation filter, int left, int top, int winW, int winH) {
        if (outW < 1 || outH < 1) {
            throw new IllegalArgumentException("resize to " + outW + "x" + outH + ": sides must be positive");
        }
        if (bx0 < 0 || by0 < 0 || bx1 > src.width() || by1 > src.height() || bx1 - bx0 < 0 || by1 - by0 < 0) {
            throw new IllegalArgumentException("resize box (" + bx0 + ", " + by0 + ", " + bx1 + ", " + by1
                    + ") must lie inside the " + src.width() + "x" + src.height() + " picture and not be empty");
        }
        int c = src.channels();
        byte[] out = new byte[winW * winH * c];
        // the part of the window that lies inside the resized image; the rest stays black
        int ox0 = Math.max(0, left);
        int ox1 = Math.min(outW, left + winW);
        int oy0 = Math.max(0, top);
        int oy1 = Math.min(outH, top + winH);
        if (ox0 >= ox1 || oy0 >= oy1) {
            return new Picture(winW, winH, c, out);
        }
        boolean integerBox = bx0 == (int) bx0 && by0 == (int) by0;
        if (integerBox && bx1 - bx0 == outW && by1 - by0 == outH) {
            copy(src, (int) bx0, (int) by0, out, winW, left, top, ox0, ox1, oy0, oy1);
        } else if (filter == Interpolation.NEAREST) {
            nearest(src, bx0, by0, bx1, by1, outW, outH, out, winW, left, top, ox0, ox1, oy0, oy1);
        } else {
            convolve(src, bx0, by0, bx1, by1, outW, outH, filter, out, winW, left, top, ox0, ox1, oy0, oy1);
        }
        return new Picture(winW, winH, c, out);
    }

    /** Pillow's ImagingCrop: output (x, y) is source (x + bx0, y + by0). */
    private static void copy(Picture src, int bx0, int by0, byte[] out, int winW, int left, int top,
                             int ox0, int ox1, int oy0, int oy1) {
        int c = src.channels();
        for (int y = oy0; y < oy1; y++) {
            System.arraycopy(src.pixels(), ((y + by0) * src.width() + ox0 + bx0) * c,
                    out, ((y - top) * winW + ox0 - left) * c, (ox1 - ox0) * c);
        }
    }

    /**
     * Pillow's ImagingScaleAffine: the source coordinate steps by (box side / output side) from
     * the first pixel's centre, accumulated by addition as Pillow does, and is truncated.
     */
    private static void nearest(Picture src, float bx0, float by0, float bx1, float by1, int outW, int outH,
                                byte[] out, int winW, int left, int top, int ox0, int ox1, int oy0, int oy1) {
        int c = src.channels();
        double ax = (double) (bx1 - bx0) / outW;
        double ay = (double) (by1 - by0) / outH;
        int[] xin = new int[outW];
        boolean[] xok = new boolean[outW];
        double xo = bx0 + ax * 0.5;
        for (int x = 0; x < outW; x++) {
            int xi = xo < 0.0 ? -1 : (int) xo;
            xok[x] = xi >= 0 && xi < src.width();
            xin[x] = xi;
            xo += ax;
        }
        double yo = by0 + ay * 0.5;
        for (int y = 0; y < oy1; y++) {
            int yi = yo < 0.0 ? -1 : (int) yo;
            yo += ay;
            if (y < oy0 || yi < 0 || yi >= src.height()) {
                continue;
            }
            int inRow = yi * src.width() * c;
            int outRow = (y - top) * winW - left;
            for (int x = ox0; x < ox1; x++) {
                if (xok[x]) {
                    System.arraycopy(src.pixels(), inRow + xin[x] * c, out, (outRow + x) * c, c);
                }
            }
        }
    }

    /** Pillow's ImagingResampleInner restricted to the output rows and columns the window needs. */
    private static void convolve(Picture src, float bx0, float by0, float bx1, float by1, int outW, int outH,
                                 Interpolation filter, byte[] out, int winW, int left, int top,
                                 int ox0, int ox1, int oy0, int oy1) {
        int c = src.channels();
        int inW = src.width();
        boolean horizontal = outW != inW || bx0 != 0 || bx1 != outW;
        boolean vertical = outH != src.height() || by0 != 0 || by1 != outH;
        FilterTable vert = FilterTable.of(src.height(), by0, by1, outH, filter);
        int nx = ox1 - ox0;
        byte[] rows;
        int rowsW;
        int firstRow;
        if (horizontal) {
            FilterTable hor = FilterTable.of(inW, bx0, bx1, outW, filter);
            firstRow = vertical ? vert.start[oy0] : oy0;
            int lastRow = vertical ? vert.start[oy1 - 1] + vert.count[oy1 - 1] : oy1;
            rows = new byte[(lastRow - firstRow) * nx * c];
            rowsW = nx;
            horizontalPass(src.pixels(), inW, c, firstRow, lastRow, hor, ox0, ox1, rows);
        } else {
            // columns are not resampled, so the window's columns are source columns
            rows = src.pixels();
            rowsW = inW;
            firstRow = 0;
        }
        int colOffset = horizontal ? 0 : ox0;
        if (vertical) {
            verticalPass(rows, rowsW, c, firstRow, colOffset, nx, vert, oy0, oy1, out, winW, left, top, ox0);
        } else {
            for (int y = oy0; y < oy1; y++) {
                System.arraycopy(rows, ((y - firstRow) * rowsW + colOffset) * c,
                        out, ((y - top) * winW + ox0 - left) * c, nx * c);
            }
        }
    }

    /** Output columns [ox0, ox1) of source rows [firstRow, lastRow), into {@code dst} row by row. */
    private static void horizontalPass(byte[] px, int inW, int c, int firstRow, int lastRow, FilterTable t,
                                       int ox0, int ox1, byte[] dst) {
        int[] k = t.coeffs;
        int ks = t.ksize;
        int d = 0;
        for (int y = firstRow; y < lastRow; y++) {
            int row = y * inW * c;
            if (c == 3) {
                for (int x = ox0; x < ox1; x++) {
                    int s0 = HALF;
                    int s1 = HALF;
                    int s2 = HALF;
                    int p = row + t.start[x] * 3;
                    int kb = x * ks;
                    for (int i = 0, n = t.count[x]; i < n; i++, p += 3) {
                        int kv = k[kb + i];
                        s0 += (px[p] & 0xff) * kv;
                        s1 += (px[p + 1] & 0xff) * kv;
                        s2 += (px[p + 2] & 0xff) * kv;
                    }
                    dst[d++] = clip8(s0);
                    dst[d++] = clip8(s1);
                    dst[d++] = clip8(s2);
                }
            } else {
                for (int x = ox0; x < ox1; x++) {
                    int s0 = HALF;
                    int p = row + t.start[x];
                    int kb = x * ks;
                    for (int i = 0, n = t.count[x]; i < n; i++) {
                        s0 += (px[p + i] & 0xff) * k[kb + i];
                    }
                    dst[d++] = clip8(s0);
                }
            }
        }
    }

    /**
     * Output rows [oy0, oy1) from {@code rows} (row r holds source row r + firstRow, {@code nx}
     * pixels from column {@code colOffset}); accumulates row by row so the reads stay sequential.
     */
    private static void verticalPass(byte[] rows, int rowsW, int c, int firstRow, int colOffset, int nx,
                                     FilterTable t, int oy0, int oy1, byte[] out, int winW, int left, int top,
                                     int ox0) {
        int n = nx * c;
        int[] acc = new int[n];
        int[] k = t.coeffs;
        for (int y = oy0; y < oy1; y++) {
            java.util.Arrays.fill(acc, HALF);
            int kb = y * t.ksize;
            for (int i = 0, m = t.count[y]; i < m; i++) {
                int kv = k[kb + i];
                int p = ((t.start[y] + i - firstRow) * rowsW + colOffset) * c;
                for (int j = 0; j < n; j++) {
                    acc[j] += (rows[p + j] & 0xff) * kv;
                }
            }
            int o = ((y - top) * winW + ox0 - left) * c;
            for (int j = 0; j < n; j++) {
                out[o + j] = clip8(acc[j]);
            }
        }
    }

    private static byte clip8(int s) {
        int v = s >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    /**
     * One axis's filter taps, as Pillow's precompute_coeffs and normalize_coeffs_8bpc compute
     * them: output i reads {@code count[i]} inputs from {@code start[i]} with 22-bit weights
     * {@code coeffs[i * ksize ...]}.
     */
    private static final class FilterTable {
        final int ksize;
        final int[] start;
        final int[] count;
        final int[] coeffs;

        private FilterTable(int ksize, int[] start, int[] count, int[] coeffs) {
            this.ksize = ksize;
            this.start = start;
            this.count = count;
            this.coeffs = coeffs;
        }

        static FilterTable of(int inSize, float in0, float in1, int outSize, Interpolation filter) {
            double scale = (double) (in1 - in0) / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = (filter == Interpolation.BICUBIC ? 2.0 : 1.0) * filterScale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] start = new int[outSize];
            int[] count = new int[outSize];
            int[] coeffs = new int[outSize * ksize];
            double[] w = new double[ksize];
            double ss = 1.0 / filterScale;
            for (int xx = 0; xx < outSize; xx++) {
                double center = in0 + (xx + 0.5) * scale;
                int xmin = Math.max(0, (int) (center - support + 0.5));
                int xmax = Math.min(inSize, (int) (center + support + 0.5)) - xmin;
                double ww = 0.0;
                for (int x = 0; x < xmax; x++) {
                    w[x] = weight(filter, (x + xmin - center + 0.5) * ss);
                    ww += w[x];
                }
                for (int x = 0; x < xmax; x++) {
                    double v = ww != 0.0 ? w[x] / ww : w[x];
                    coeffs[xx * ksize + x] = (int) (v < 0 ? -0.5 + v * (1 << PRECISION_BITS)
                            : 0.5 + v * (1 << PRECISION_BITS));
                }
                start[xx] = xmin;
                count[xx] = Math.max(0, xmax);
            }
            return new FilterTable(ksize, start, count, coeffs);
        }

        /** Pillow's triangle and Keys cubic (a = −0.5) kernels, written as Resample.c writes them. */
        private static double weight(Interpolation filter, double x) {
            if (x < 0.0) {
                x = -x;
            }
            if (filter == Interpolation.BILINEAR) {
                return x < 1.0 ? 1.0 - x : 0.0;
            }
            double a = -0.5;
            if (x < 1.0) {
                return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
            }
            if (x < 2.0) {
                return (((x - 5) * x + 8) * x - 4) * a;
            }
            return 0.0;
        }
    }
}
