package dev.flora.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.io.FormatException;
import dev.flora.image.Interpolation;
import dev.flora.image.Picture;
import dev.flora.image.Preprocessing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFoldersTest {
    @TempDir
    Path dir;

    @Test
    void trainValRootLabelsClassesInSortedOrderAndValIsTheTestSplit() throws IOException {
        Path root = ImageFolderFixture.trainVal(dir.resolve("data"), 4, 2, 1);
        // a non-image file and a hidden folder are ignored, as torchvision ignores them
        Files.writeString(root.resolve("train").resolve("circle").resolve("notes.txt"), "x");
        Files.createDirectories(root.resolve("train").resolve(".cache"));
        Datasets.TrainTest tt = Datasets.load(root.toString());
        assertEquals(ImageFolderFixture.CLASSES, tt.train().classNames());
        assertEquals(12, tt.train().count());
        assertEquals(6, tt.test().count());
        assertEquals(List.of(0, 0, 1, 1, 2, 2), Arrays.stream(tt.test().labels()).boxed().toList());
        Picture p = tt.train().picture(1);
        assertEquals(3, p.channels());
        assertEquals(tt.test().name(), Datasets.load(root.toString(), Split.TEST).name());
        assertEquals(1, Datasets.load(root.toString(), Split.VAL).count(), "validation is carved from train/");
    }

    @Test
    void aFolderOfClassFoldersIsAnEvaluationSet() throws IOException {
        Path root = ImageFolderFixture.trainVal(dir.resolve("data"), 1, 2, 2);
        Path val = root.resolve("val");
        assertEquals(6, Datasets.load(val.toString(), Split.TEST).count());
        FormatException e = assertThrows(FormatException.class, () -> Datasets.load(val.toString(), Split.TRAIN));
        assertTrue(e.getMessage().contains("evaluation set"), e.getMessage());
    }

    @Test
    void badFoldersFailWithOneLineNamingTheFolder() throws IOException {
        Path root = ImageFolderFixture.trainVal(dir.resolve("data"), 2, 1, 3);
        Path stray = Files.createDirectories(root.resolve("val").resolve("zebra"));
        FormatException e = assertThrows(FormatException.class, () -> Datasets.load(root.toString()));
        assertTrue(e.getMessage().contains(stray.toString()) && e.getMessage().contains("not in"), e.getMessage());
        Files.delete(stray);
        Path empty = Files.createDirectories(root.resolve("train").resolve("aardvark"));
        e = assertThrows(FormatException.class, () -> Datasets.load(root.toString()));
        assertTrue(e.getMessage().contains(empty.toString()) && e.getMessage().contains("empty"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    @Test
    void transformPathDecodesAheadOnWorkersAndMatchesTheTransformOneByOne() throws IOException {
        Path root = ImageFolderFixture.trainVal(dir.resolve("data"), 7, 1, 4);
        ImageSource train = Datasets.load(root.toString()).train();
        Preprocessing pre = new Preprocessing(16, 0.875, Interpolation.BICUBIC, new double[] {0.5, 0.5, 0.5},
                new double[] {0.25, 0.25, 0.25});
        BatchLoader loader = BatchLoader.forEvaluation(train, pre, 5);
        assertEquals(5, loader.batchesPerEpoch());
        float[] batch = new float[5 * pre.imageFloats()];
        int[] labels = new int[5];
        BatchLoader.Epoch epoch = loader.epoch(0);
        float[] one = new float[pre.imageFloats()];
        for (int b = 0; b < loader.batchesPerEpoch(); b++) {
            int n = epoch.fill(b, batch, labels);
            for (int i = 0; i < n; i++) {
                pre.evalInto(train.picture(b * 5 + i), one, 0);
                assertArrayEqualsAt(one, batch, i * one.length, "batch " + b + " image " + i);
                assertEquals(train.labels()[b * 5 + i], labels[i]);
            }
        }
    }

    @Test
    void aCorruptImageFailsTheBatchWithItsFileName() throws IOException {
        Path root = ImageFolderFixture.trainVal(dir.resolve("data"), 2, 1, 5);
        Path bad = root.resolve("val").resolve("square").resolve("img000.png");
        Files.write(bad, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        ImageSource test = Datasets.load(root.toString()).test();
        Preprocessing pre = Preprocessing.timmDefaults(16, 3);
        BatchLoader loader = BatchLoader.forEvaluation(test, pre, 8);
        FormatException e = assertThrows(FormatException.class,
                () -> loader.epoch(0).fill(0, new float[8 * pre.imageFloats()], new int[8]));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
    }

    private static void assertArrayEqualsAt(float[] expected, float[] actual, int offset, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != actual[offset + i]) {
                throw new AssertionError(what + ": value " + i + " is " + actual[offset + i] + ", expected "
                        + expected[i]);
            }
        }
    }
}
