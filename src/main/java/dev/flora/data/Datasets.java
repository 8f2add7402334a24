package dev.flora.data;

import dev.flora.engine.io.FormatException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Finds and loads image datasets. A data spec ({@code --data}) is one of:
 * <ul>
 * <li>a directory holding the four IDX files of MNIST / Fashion-MNIST
 * ({@code train-images-idx3-ubyte[.gz]}, {@code train-labels-idx1-ubyte[.gz]},
 * {@code t10k-images-idx3-ubyte[.gz]}, {@code t10k-labels-idx1-ubyte[.gz]}), such as
 * {@code /usr/share/datasets/fashion-mnist} from the Debian package {@code dataset-fashion-mnist};
 * <li>a CIFAR-10 or CIFAR-100 binary directory ({@link CifarReader});
 * <li>an image folder with {@code train/} and {@code val/} (ImageNet's layout; {@code val/} is the
 * test split), or a folder of class folders alone (an evaluation set: test split only)
 * ({@link ImageFolders});
 * <li>the name of the subset bundled with flora-j, {@value #BUNDLED_FMNIST}.
 * </ul>
 */
public final class Datasets {
    /** What a data spec may be, for flag and config help. */
    public static final String SPEC_HELP = "an IDX, CIFAR binary or image-folder directory (train/ + val/, or class "
            + "folders), or fmnist-subset";

    /** Bundled Fashion-MNIST subset: 6000 training and 2000 test images. */
    public static final String BUNDLED_FMNIST = "fmnist-subset";
    /** Where the Debian package puts the full Fashion-MNIST. */
    public static final String DEBIAN_FMNIST = "/usr/share/datasets/fashion-mnist";

    /** Seed of the train/validation permutation; fixed so every command sees the same split. */
    private static final long SPLIT_SEED = 2311_03912L;
    /** Validation images carved from the training file: this many, or a tenth if fewer. */
    public static final int MAX_VAL = 5000;

    private static final String RESOURCE_DIR = "/dev/flora/data/" + BUNDLED_FMNIST + "/";

    private Datasets() {
    }

    /** The training and test files of a data spec; {@code train} is null for an evaluation set. */
    public record TrainTest(ImageSource train, ImageSource test) {
        /** The training file, or a one-line error for an evaluation-only data spec. */
        public ImageSource trainFile() {
            if (train == null) {
                throw new FormatException(test.name() + ": an evaluation set (class folders without train/ and val/) "
                        + "has no training images; use a folder with train/ and val/");
            }
            return train;
        }
    }

    public static TrainTest load(String spec) {
        if (spec.equals(BUNDLED_FMNIST)) {
            return new TrainTest(bundled("train"), bundled("t10k"));
        }
        Path dir = Path.of(spec);
        if (!Files.isDirectory(dir)) {
            throw new FormatException("data path " + spec + " is not a directory (expected IDX files such as "
                    + DEBIAN_FMNIST + ", a CIFAR binary directory, an image folder with train/ and val/, a folder of "
                    + "class folders, or the bundled name " + BUNDLED_FMNIST + ")");
        }
        if (Files.exists(dir.resolve("train-images-idx3-ubyte.gz")) || Files.exists(dir.resolve("train-images-idx3-ubyte"))) {
            return new TrainTest(fromDirectory(dir, "train"), fromDirectory(dir, "t10k"));
        }
        if (CifarReader.isCifar(dir)) {
            return CifarReader.load(dir);
        }
        if (ImageFolders.isTrainValRoot(dir)) {
            return ImageFolders.trainVal(dir);
        }
        if (ImageFolders.isClassFolder(dir)) {
            return new TrainTest(null, ImageFolders.evaluationSet(dir));
        }
        throw new FormatException(dir + ": no dataset found (expected train-images-idx3-ubyte[.gz] and friends, "
                + "CIFAR's data_batch_1.bin or train.bin, train/ and val/ image folders, or class folders)");
    }

    /** One split of a data spec (see {@link Split}). */
    public static ImageSource load(String spec, Split split) {
        TrainTest tt = load(spec);
        if (split != Split.TEST) {
            tt.trainFile();
        }
        return switch (split) {
            case TEST -> tt.test();
            case TRAIN -> trainPart(tt.train());
            case VAL -> valPart(tt.train());
        };
    }

    /** Image files of a folder up to this many MiB are all decoded before a stage writes anything. */
    public static final long CHECK_FILES_MB = Long.getLong("flora.checkFilesMb", 64);

    /**
     * Reads every image of the small image-folder sources among {@code sources} now (see
     * {@link FolderDataset#decodeAllIfSmall}), so that a stage fails on a bad file before its
     * run directory is touched; other sources are already in memory.
     */
    public static void checkReadable(ImageSource... sources) {
        for (ImageSource s : sources) {
            if (s instanceof FolderDataset f) {
                f.decodeAllIfSmall(CHECK_FILES_MB << 20);
            }
        }
    }

    public static int valCount(int trainFileCount) {
        return Math.min(MAX_VAL, trainFileCount / 10);
    }

    /** The training file minus the validation images. */
    public static ImageSource trainPart(ImageSource trainFile) {
        int[] perm = splitPermutation(trainFile.count());
        int val = valCount(trainFile.count());
        int[] idx = java.util.Arrays.copyOfRange(perm, val, perm.length);
        java.util.Arrays.sort(idx);
        return trainFile.subset(trainFile.name() + ":train", idx);
    }

    /**
     * The validation images carved from the training file; refused when that leaves none, since
     * every stage that asks for them scores or selects on them (a search on none picks at random).
     */
    public static ImageSource valPart(ImageSource trainFile) {
        int count = valCount(trainFile.count());
        if (count == 0) {
            throw new FormatException(trainFile.name() + ": the validation split is empty: it is a tenth of the "
                    + trainFile.count() + " training images, so it needs at least 10 of them");
        }
        int[] perm = splitPermutation(trainFile.count());
        int[] idx = java.util.Arrays.copyOf(perm, count);
        java.util.Arrays.sort(idx);
        return trainFile.subset(trainFile.name() + ":val", idx);
    }

    /** The first {@code limit} images of {@code data}; all of them when the limit is 0 or not below the count. */
    public static ImageSource first(ImageSource data, int limit) {
        if (limit <= 0 || limit >= data.count()) {
            return data;
        }
        int[] idx = new int[limit];
        java.util.Arrays.setAll(idx, i -> i);
        return data.subset(data.name() + "[:" + limit + "]", idx);
    }

    /** A seeded random {@code fraction} of {@code data} (in index order), e.g. the proxy set of filtering. */
    public static ImageSource fraction(ImageSource data, double fraction, long seed, String name) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("fraction " + fraction + " is outside (0, 1]");
        }
        int n = Math.max(1, (int) Math.round(fraction * data.count()));
        int[] idx = java.util.Arrays.copyOf(Seeds.permutation(data.count(), new Random(seed)), n);
        java.util.Arrays.sort(idx);
        return data.subset(data.name() + ":" + name, idx);
    }

    private static int[] splitPermutation(int n) {
        return Seeds.permutation(n, new Random(SPLIT_SEED));
    }

    private static ImageDataset fromDirectory(Path dir, String prefix) {
        Path images = findIdx(dir, prefix + "-images-idx3-ubyte");
        Path labels = findIdx(dir, prefix + "-labels-idx1-ubyte");
        try (InputStream im = Files.newInputStream(images); InputStream lb = Files.newInputStream(labels)) {
            return fromIdx(dir + "/" + prefix, IdxReader.read(im, images.toString()),
                    IdxReader.read(lb, labels.toString()), images.toString(), labels.toString());
        } catch (IOException e) {
            throw new FormatException(dir + ": cannot read " + prefix + " IDX files (" + e.getMessage() + ")", e);
        }
    }

    private static Path findIdx(Path dir, String stem) {
        for (String name : new String[] {stem + ".gz", stem}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new FormatException(dir + ": missing " + stem + ".gz (or " + stem + ")");
    }

    private static ImageDataset bundled(String prefix) {
        String im = RESOURCE_DIR + prefix + "-images-idx3-ubyte.gz";
        String lb = RESOURCE_DIR + prefix + "-labels-idx1-ubyte.gz";
        try (InputStream a = Datasets.class.getResourceAsStream(im); InputStream b = Datasets.class
                .getResourceAsStream(lb)) {
            if (a == null || b == null) {
                throw new IllegalStateException("bundled dataset resource " + im + " is missing from the classpath");
            }
            return fromIdx(BUNDLED_FMNIST + "/" + prefix, IdxReader.read(a, im), IdxReader.read(b, lb), im, lb);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read bundled dataset " + im, e);
        }
    }

    private static ImageDataset fromIdx(String name, IdxReader.IdxArray images, IdxReader.IdxArray labels,
                                        String imageFile, String labelFile) {
        int[] d = images.dims();
        if (d.length != 3 && d.length != 4) {
            throw new FormatException(imageFile + ": image IDX has " + d.length + " dimensions, expected 3 [N, H, W] "
                    + "or 4 [N, C, H, W]");
        }
        if (labels.dims().length != 1) {
            throw new FormatException(labelFile + ": label IDX has " + labels.dims().length + " dimensions, expected 1");
        }
        int n = d[0];
        if (labels.dims()[0] != n) {
            throw new FormatException(labelFile + ": " + labels.dims()[0] + " labels for " + n + " images in "
                    + imageFile);
        }
        int channels = d.length == 4 ? d[1] : 1;
        int h = d[d.length - 2];
        int w = d[d.length - 1];
        int[] lab = new int[n];
        int max = 0;
        for (int i = 0; i < n; i++) {
            lab[i] = labels.data()[i] & 0xff;
            max = Math.max(max, lab[i]);
        }
        return new ImageDataset(name, images.data(), lab, channels, h, w, Math.max(10, max + 1));
    }
}
