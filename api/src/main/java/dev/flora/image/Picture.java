package dev.flora.image;

/**
 * A decoded image as PIL holds one: {@code width × height} pixels of {@code channels} (1 = L,
 * 3 = RGB) interleaved 8-bit samples, row by row.
 */
public record Picture(int width, int height, int channels, byte[] pixels) {

    public Picture {
        if (width <= 0 || height <= 0 || (channels != 1 && channels != 3)) {
            throw new IllegalArgumentException("picture " + width + "x" + height + "x" + channels
                    + ": expected positive sides and 1 or 3 channels");
        }
        if (pixels.length != (long) width * height * channels) {
            throw new IllegalArgumentException("picture " + width + "x" + height + "x" + channels + " needs "
                    + (long) width * height * channels + " bytes, got " + pixels.length);
        }
    }

    /** An image stored channel-major ([C, H, W] bytes, as IDX and CIFAR store them) at {@code offset}. */
    public static Picture fromPlanar(byte[] chw, int offset, int channels, int height, int width) {
        byte[] px = new byte[channels * height * width];
        int plane = height * width;
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < plane; i++) {
                px[i * channels + c] = chw[offset + c * plane + i];
            }
        }
        return new Picture(width, height, channels, px);
    }

    /**
     * This image with {@code target} channels, converted as PIL's {@code convert("RGB")} (L copied
     * into R, G and B) and {@code convert("L")} (ITU-R 601-2 luma, L = R·299/1000 + G·587/1000 +
     * B·114/1000, rounded) do.
     */
    public Picture toChannels(int target) {
        if (target == channels) {
            return this;
        }
        int n = width * height;
        byte[] out = new byte[n * target];
        if (channels == 1 && target == 3) {
            for (int i = 0; i < n; i++) {
                out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = pixels[i];
            }
        } else if (channels == 3 && target == 1) {
            for (int i = 0; i < n; i++) {
                int r = pixels[3 * i] & 0xff;
                int g = pixels[3 * i + 1] & 0xff;
                int b = pixels[3 * i + 2] & 0xff;
                // PIL's L24 fixed point: (r*19595 + g*38470 + b*7471 + 0x8000) >> 16
                out[i] = (byte) ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
            }
        } else {
            throw new IllegalArgumentException("cannot convert " + channels + " channels to " + target);
        }
        return new Picture(width, height, target, out);
    }
}
