package dev.flora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.data.ImageFolderFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad image data on the command line: each case exits 2 with one line naming the file, folder or flag. */
class ImageDataCliTest {
    @TempDir
    Path dir;

    /** A fresh train/val folder named {@code name}. */
    private Path folder(String name) throws IOException {
        return ImageFolderFixture.trainVal(dir.resolve(name), 3, 2, 7);
    }

    private static void assertBadInput(CliRunner.Run r, String... mentions) {
        assertEquals(2, r.code(), r.out() + r.err());
        String line = r.error();
        assertTrue(line.startsWith("error: "), r.err());
        assertEquals(1, r.err().lines().filter(l -> l.startsWith("error") || l.startsWith("\tat ")
                || l.contains("Exception")).count(), "one error line and no trace: " + r.err());
        for (String m : mentions) {
            assertTrue(line.contains(m), "'" + m + "' in: " + line);
        }
    }

    private static CliRunner.Run eval(Path data, String... extra) {
        String[] base = {"eval", "--model", "deit-tiny", "--data", data.toString()};
        String[] all = Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return CliRunner.run(all);
    }

    @Test
    void corruptTruncatedAndNonImageFilesAreNamed() throws IOException {
        Path a = folder("corrupt-jpeg");
        Path jpeg = a.resolve("val/square/img001.jpg");
        byte[] bytes = Files.readAllBytes(jpeg);
        for (int i = bytes.length / 3; i < bytes.length - 2; i++) {
            bytes[i] = (byte) 0xFF; // markers everywhere: the entropy-coded data is gone
        }
        Files.write(jpeg, bytes);
        assertBadInput(eval(a), jpeg.toString());

        Path b = folder("truncated-png");
        Path png = b.resolve("val/circle/img000.png");
        byte[] full = Files.readAllBytes(png);
        Files.write(png, Arrays.copyOf(full, full.length / 2));
        assertBadInput(eval(b), png.toString());

        Path c = folder("not-an-image");
        Path text = c.resolve("val/triangle/img000.png");
        Files.writeString(text, "this is not a picture");
        assertBadInput(eval(c), text.toString());
    }

    @Test
    void badFoldersAndFlagsAreNamed() throws IOException {
        Path a = folder("empty-class");
        Path empty = Files.createDirectories(a.resolve("val/zz-empty"));
        Files.createDirectories(a.resolve("train/zz-empty"));
        assertBadInput(eval(a), "zz-empty", "empty class folder");

        Path b = folder("val-only-class");
        Path stray = Files.createDirectories(b.resolve("val/unicorn"));
        Files.copy(b.resolve("val/circle/img000.png"), stray.resolve("x.png"));
        assertBadInput(eval(b), stray.toString(), "not in");

        assertBadInput(eval(folder("interp"), "--interpolation", "lanczos"), "--interpolation", "lanczos");
        assertTrue(Files.exists(empty));
    }

    @Test
    void pretrainOnABadSmallFolderFailsBeforeWritingItsRunDirectory() throws IOException {
        // four images per class: nine would already fail for an empty validation split
        Path data = ImageFolderFixture.trainVal(dir.resolve("bad-train"), 4, 2, 7);
        Path bad = data.resolve("train/circle/img002.png");
        Files.write(bad, new byte[] {1, 2, 3});
        Path out = dir.resolve("run");
        CliRunner.Run r = CliRunner.run("pretrain", "--data", data.toString(), "--out", out.toString(), "--img-size",
                "16", "--in-chans", "3", "--patch-size", "4", "--embed-dim", "16", "--depth", "1", "--num-heads", "2",
                "--epochs", "1", "--batch-size", "4");
        assertBadInput(r, bad.toString());
        assertFalse(Files.exists(out), "nothing half-written");
    }
}
