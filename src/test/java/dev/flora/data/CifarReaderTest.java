package dev.flora.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.io.FormatException;
import dev.flora.image.Picture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CifarReaderTest {
    @TempDir
    Path dir;

    /** {@code n} records with {@code labelBytes} label bytes; record i has labels i % 10 (coarse i % 20) and pixels i. */
    private static byte[] records(int n, int labelBytes, int first) {
        int size = labelBytes + 3072;
        byte[] b = new byte[n * size];
        for (int i = 0; i < n; i++) {
            int k = first + i;
            if (labelBytes == 2) {
                b[i * size] = (byte) (k % 20);
            }
            b[i * size + labelBytes - 1] = (byte) (k % (labelBytes == 2 ? 100 : 10));
            for (int p = 0; p < 3072; p++) {
                b[i * size + labelBytes + p] = (byte) (k + p / 1024); // channel-major: R plane, G plane, B plane
            }
        }
        return b;
    }

    @Test
    void readsCifar10BatchesAndClassNames() throws IOException {
        for (int i = 1; i <= 5; i++) {
            Files.write(dir.resolve("data_batch_" + i + ".bin"), records(3, 1, 3 * (i - 1)));
        }
        Files.write(dir.resolve("test_batch.bin"), records(2, 1, 100));
        Files.writeString(dir.resolve("batches.meta.txt"), "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\n"
                + "ship\ntruck\n\n");
        Datasets.TrainTest tt = Datasets.load(dir.toString());
        assertEquals(15, tt.train().count());
        assertEquals(2, tt.test().count());
        assertEquals(10, tt.train().classes());
        assertEquals("cat", tt.train().classNames().get(3));
        assertEquals(7, tt.train().labels()[7]);
        Picture p = tt.train().picture(7);
        assertEquals(32, p.width());
        assertEquals(List.of(7, 8, 9), List.of(p.pixels()[0] & 0xff, p.pixels()[1] & 0xff, p.pixels()[2] & 0xff),
                "planes interleave into RGB");
    }

    @Test
    void readsCifar100FineLabels() throws IOException {
        Files.write(dir.resolve("train.bin"), records(30, 2, 0));
        Files.write(dir.resolve("test.bin"), records(4, 2, 50));
        Datasets.TrainTest tt = Datasets.load(dir.toString());
        assertEquals(100, tt.train().classes());
        assertEquals(25, tt.train().labels()[25], "the fine label, not the coarse one");
        assertEquals(53, tt.test().labels()[3]);
    }

    @Test
    void aTruncatedBatchNamesItsFile() throws IOException {
        for (int i = 1; i <= 5; i++) {
            Files.write(dir.resolve("data_batch_" + i + ".bin"), records(2, 1, 0));
        }
        byte[] cut = records(2, 1, 0);
        Files.write(dir.resolve("test_batch.bin"), java.util.Arrays.copyOf(cut, cut.length - 5));
        FormatException e = assertThrows(FormatException.class, () -> Datasets.load(dir.toString()));
        assertTrue(e.getMessage().contains("test_batch.bin") && e.getMessage().contains("3073"), e.getMessage());
    }
    /** Issue 27 item 10: every label byte of a record is in range, the coarse CIFAR-100 one too. */
    @Test
    void labelsOutOfRangeNameTheFileAndTheRecord() throws IOException {
        byte[] train = records(3, 2, 0);
        train[3074] = 20; // record 1's coarse label: CIFAR-100 has 20 superclasses
        Files.write(dir.resolve("train.bin"), train);
        Files.write(dir.resolve("test.bin"), records(1, 2, 0));
        FormatException e = assertThrows(FormatException.class, () -> Datasets.load(dir.toString()));
        assertTrue(e.getMessage().contains("train.bin: record 1 has coarse label 20, expected 0..19"), e.getMessage());
        train[3074] = 0;
        train[3075] = (byte) 100;
        Files.write(dir.resolve("train.bin"), train);
        e = assertThrows(FormatException.class, () -> Datasets.load(dir.toString()));
        assertTrue(e.getMessage().contains("train.bin: record 1 has label 100, expected 0..99"), e.getMessage());
    }
}
