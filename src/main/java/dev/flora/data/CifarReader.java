package dev.flora.data;

import dev.flora.engine.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The CIFAR binary versions: CIFAR-10 ({@code data_batch_1..5.bin} + {@code test_batch.bin},
 * records of 1 label byte + 3072 pixel bytes, class names in {@code batches.meta.txt}) and
 * CIFAR-100 ({@code train.bin} + {@code test.bin}, records of a coarse and a fine label byte +
 * 3072 pixel bytes; the fine label is used, names in {@code fine_label_names.txt}). Pixels are
 * channel-major 3×32×32, as {@link ImageDataset} holds them.
 */
public final class CifarReader {
    private static final int PIXELS = 3 * 32 * 32;
    private static final int CIFAR100_COARSE_CLASSES = 20;

    private CifarReader() {
    }

    /** Whether {@code dir} holds either CIFAR binary version. */
    public static boolean isCifar(Path dir) {
        return Files.isRegularFile(dir.resolve("data_batch_1.bin")) || Files.isRegularFile(dir.resolve("train.bin"));
    }

    public static Datasets.TrainTest load(Path dir) {
        if (Files.isRegularFile(dir.resolve("data_batch_1.bin"))) {
            List<String> names = names(dir.resolve("batches.meta.txt"), 10);
            List<Path> train = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                train.add(require(dir.resolve("data_batch_" + i + ".bin")));
            }
            return new Datasets.TrainTest(read(dir + "/train", train, 1, 10, names),
                    read(dir + "/test", List.of(require(dir.resolve("test_batch.bin"))), 1, 10, names));
        }
        List<String> names = names(dir.resolve("fine_label_names.txt"), 100);
        return new Datasets.TrainTest(read(dir + "/train", List.of(require(dir.resolve("train.bin"))), 2, 100, names),
                read(dir + "/test", List.of(require(dir.resolve("test.bin"))), 2, 100, names));
    }

    private static Path require(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new FormatException(file.getParent() + ": missing " + file.getFileName() + " (a CIFAR binary "
                    + "directory has data_batch_1..5.bin and test_batch.bin, or train.bin and test.bin)");
        }
        return file;
    }

    /** The class names file, or unnamed classes when it is absent. */
    private static List<String> names(Path file, int classes) {
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        try {
            List<String> names = Files.readAllLines(file).stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
            if (names.size() != classes) {
                throw new FormatException(file + ": " + names.size() + " class names, expected " + classes);
            }
            return names;
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** Records of {@code labelBytes} label bytes (the last one is the label) and 3072 pixels. */
    private static ImageDataset read(String name, List<Path> files, int labelBytes, int classes, List<String> names) {
        int record = labelBytes + PIXELS;
        long total = 0;
        for (Path f : files) {
            long size = size(f);
            if (size == 0 || size % record != 0) {
                throw new FormatException(f + ": " + size + " bytes is not a whole number of " + record + "-byte CIFAR "
                        + "records");
            }
            total += size / record;
        }
        if (total * PIXELS > Integer.MAX_VALUE - 8) {
            throw new FormatException(name + ": " + total + " CIFAR images do not fit one in-memory dataset");
        }
        int n = (int) total;
        byte[] pixels = new byte[n * PIXELS];
        int[] labels = new int[n];
        int i = 0;
        for (Path f : files) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(f);
            } catch (IOException e) {
                throw new FormatException(f + ": cannot read (" + e.getMessage() + ")");
            }
            if (bytes.length != size(f) || bytes.length % record != 0 || i + bytes.length / record > n) {
                throw new FormatException(f + ": changed while it was read (now " + bytes.length + " bytes)");
            }
            for (int off = 0; off < bytes.length; off += record, i++) {
                int coarse = bytes[off] & 0xff;
                if (labelBytes == 2 && coarse >= CIFAR100_COARSE_CLASSES) {
                    throw new FormatException(f + ": record " + (off / record) + " has coarse label " + coarse
                            + ", expected 0.." + (CIFAR100_COARSE_CLASSES - 1));
                }
                int label = bytes[off + labelBytes - 1] & 0xff;
                if (label >= classes) {
                    throw new FormatException(f + ": record " + (off / record) + " has label " + label + ", expected "
                            + "0.." + (classes - 1));
                }
                labels[i] = label;
                System.arraycopy(bytes, off + labelBytes, pixels, i * PIXELS, PIXELS);
            }
        }
        return new ImageDataset(name, pixels, labels, 3, 32, 32, classes, names);
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            throw new FormatException(f + ": cannot read (" + e.getMessage() + ")");
        }
    }
}
