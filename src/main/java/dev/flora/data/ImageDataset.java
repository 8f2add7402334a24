package dev.flora.data;

import dev.flora.image.Picture;
import java.util.List;

/**
 * Images and labels in memory: {@code pixels} holds {@code count} images of
 * {@code channels × height × width} bytes (channel-major, as the IDX and CIFAR formats and a
 * conv input expect), one label per image in [0, classes).
 */
public record ImageDataset(String name, byte[] pixels, int[] labels, int channels, int height, int width,
                           int classes, List<String> classNames) implements ImageSource {

    /** A dataset whose classes have no names. */
    public ImageDataset(String name, byte[] pixels, int[] labels, int channels, int height, int width, int classes) {
        this(name, pixels, labels, channels, height, width, classes, List.of());
    }

    public ImageDataset {
        classNames = List.copyOf(classNames);
        if (!classNames.isEmpty() && classNames.size() != classes) {
            throw new IllegalArgumentException(name + ": " + classNames.size() + " class names for " + classes
                    + " classes");
        }
        long expected = (long) labels.length * channels * height * width;
        if (pixels.length != expected) {
            throw new IllegalArgumentException(name + ": " + labels.length + " labels need " + expected
                    + " pixel bytes, got " + pixels.length);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of image " + i + " is outside [0, "
                        + classes + ")");
            }
        }
    }

    @Override
    public int count() {
        return labels.length;
    }

    public int imageBytes() {
        return channels * height * width;
    }

    @Override
    public Picture picture(int i) {
        return Picture.fromPlanar(pixels, i * imageBytes(), channels, height, width);
    }

    /** The images at {@code indices}, in that order, as a new dataset. */
    @Override
    public ImageDataset subset(String subsetName, int[] indices) {
        int size = imageBytes();
        byte[] px = new byte[indices.length * size];
        int[] lb = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(pixels, indices[i] * size, px, i * size, size);
            lb[i] = labels[indices[i]];
        }
        return new ImageDataset(subsetName, px, lb, channels, height, width, classes, classNames);
    }
}
