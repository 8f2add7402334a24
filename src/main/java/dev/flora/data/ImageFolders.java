package dev.flora.data;

import dev.flora.engine.io.FormatException;
import dev.flora.image.ImageFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Image folders in torchvision's {@code ImageFolder} layout: one subfolder per class, class
 * index = position of the folder name in sorted order (as torchvision assigns it), image files
 * (.png, .jpg, .jpeg, any case) anywhere below a class folder; other files are ignored, as
 * torchvision ignores them. A root with {@code train/} and {@code val/} is ImageNet's layout.
 */
public final class ImageFolders {
    public static final String TRAIN = "train";
    public static final String VAL = "val";
    /** Decoded pixels kept in memory per folder (MiB), so a small set decodes once; {@code -Dflora.decodedCacheMb}. */
    public static final long CACHE_MB = Long.getLong("flora.decodedCacheMb", 512);

    private ImageFolders() {
    }

    /** Whether {@code dir} is a train/val root. */
    public static boolean isTrainValRoot(Path dir) {
        return Files.isDirectory(dir.resolve(TRAIN)) && Files.isDirectory(dir.resolve(VAL));
    }

    /** Whether {@code dir} holds class folders (at least one subfolder and no IDX or CIFAR files). */
    public static boolean isClassFolder(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> Files.isDirectory(p) && !p.getFileName().toString().startsWith("."));
        } catch (IOException e) {
            throw new FormatException(dir + ": cannot list (" + e.getMessage() + ")");
        }
    }

    /** The train/val root's two folders; {@code val/}'s classes must all be classes of {@code train/}. */
    public static Datasets.TrainTest trainVal(Path root) {
        List<String> classes = classNames(root.resolve(TRAIN));
        List<String> valClasses = classNames(root.resolve(VAL));
        for (String c : valClasses) {
            if (!classes.contains(c)) {
                throw new FormatException(root.resolve(VAL).resolve(c) + ": class folder not in " + root.resolve(TRAIN)
                        + " (val/ may only hold classes of train/)");
            }
        }
        return new Datasets.TrainTest(read(root.resolve(TRAIN), classes), read(root.resolve(VAL), classes));
    }

    /** A single class folder (an evaluation set), classes named by its own subfolders. */
    public static FolderDataset evaluationSet(Path dir) {
        return read(dir, classNames(dir));
    }

    /** Sorted names of the class folders of {@code dir}. */
    static List<String> classNames(Path dir) {
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
                    .sorted().forEach(names::add);
        } catch (IOException e) {
            throw new FormatException(dir + ": cannot list class folders (" + e.getMessage() + ")");
        }
        if (names.isEmpty()) {
            throw new FormatException(dir + ": no class folders (expected one subfolder of images per class)");
        }
        return names;
    }

    /** The images of every class folder of {@code dir} named in {@code classes}, labelled by their position. */
    static FolderDataset read(Path dir, List<String> classes) {
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (String c : classNames(dir)) {
            Path classDir = dir.resolve(c);
            List<Path> images = images(classDir);
            if (images.isEmpty()) {
                throw new FormatException(classDir + ": empty class folder (no .png, .jpg or .jpeg files)");
            }
            int label = classes.indexOf(c);
            for (Path p : images) {
                files.add(p);
                labels.add(label);
            }
        }
        return new FolderDataset(dir.toString(), files, labels.stream().mapToInt(Integer::intValue).toArray(), classes,
                CACHE_MB << 20);
    }

    private static List<Path> images(Path classDir) {
        try (Stream<Path> s = Files.walk(classDir)) {
            return s.filter(Files::isRegularFile).filter(ImageFiles::hasImageExtension)
                    .filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            throw new FormatException(classDir + ": cannot list images (" + e.getMessage() + ")");
        }
    }
}
