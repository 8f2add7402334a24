package dev.flora.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    @TempDir
    Path dir;

    @Test
    void bundledSubsetHasBalancedTrainAndTestImages() {
        Datasets.TrainTest tt = Datasets.load(Datasets.BUNDLED_FMNIST);
        assertEquals(6000, tt.train().count());
        assertEquals(2000, tt.test().count());
        assertEquals(28, ((ImageDataset) tt.train()).height());
        int[] perClass = new int[10];
        for (int l : tt.test().labels()) {
            perClass[l]++;
        }
        for (int c : perClass) {
            assertEquals(200, c);
        }
    }

    @Test
    void validationIsAFixedDisjointPartOfTheTrainingFile() {
        ImageDataset file = (ImageDataset) Datasets.load(Datasets.BUNDLED_FMNIST).train();
        ImageDataset train = (ImageDataset) Datasets.trainPart(file);
        ImageDataset val = (ImageDataset) Datasets.valPart(file);
        assertEquals(600, val.count());
        assertEquals(5400, train.count());
        Set<String> seen = new HashSet<>();
        int size = file.imageBytes();
        for (int i = 0; i < train.count(); i++) {
            seen.add(java.util.Arrays.toString(java.util.Arrays.copyOfRange(train.pixels(), i * size, (i + 1) * size)));
        }
        int overlap = 0;
        for (int i = 0; i < val.count(); i++) {
            overlap += seen.contains(java.util.Arrays.toString(
                    java.util.Arrays.copyOfRange(val.pixels(), i * size, (i + 1) * size))) ? 1 : 0;
        }
        assertEquals(0, overlap, "no validation image is also a training image");
        assertEquals(java.util.Arrays.toString(val.labels()),
                java.util.Arrays.toString(Datasets.valPart(file).labels()), "the split is fixed");
    }

    @Test
    void missingDirectoryAndFilesAreNamed() throws IOException {
        FormatException e = assertThrows(FormatException.class, () -> Datasets.load("/no/such/dir"));
        assertTrue(e.getMessage().contains("/no/such/dir"), e.getMessage());
        Files.write(dir.resolve("train-images-idx3-ubyte"), IdxReaderTest.idx(new int[] {1, 2, 2}, new byte[4]));
        e = assertThrows(FormatException.class, () -> Datasets.load(dir.toString()));
        assertTrue(e.getMessage().contains("train-labels-idx1-ubyte"), e.getMessage());
    }

    @Test
    void labelCountMustMatchImageCount() throws IOException {
        for (String p : new String[] {"train", "t10k"}) {
            Files.write(dir.resolve(p + "-images-idx3-ubyte.gz"),
                    IdxReaderTest.gzip(IdxReaderTest.idx(new int[] {3, 2, 2}, new byte[12])));
            Files.write(dir.resolve(p + "-labels-idx1-ubyte.gz"),
                    IdxReaderTest.gzip(IdxReaderTest.idx(new int[] {2}, new byte[2])));
        }
        FormatException e = assertThrows(FormatException.class, () -> Datasets.load(dir.toString()));
        assertTrue(e.getMessage().contains("2 labels for 3 images"), e.getMessage());
    }
}
