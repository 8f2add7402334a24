package dev.flora.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.io.FormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * Issue 27 item 9: a bundled model was copied to a new temporary file on every load (deleted only
 * at a clean exit, so each kill leaked 4.8 MB), and messages named that file. Now it is one cached
 * copy per content, named after the bundled model, outside the system temporary directory.
 */
class BundledFilesTest {
    @Test
    void aBundledModelIsOneReusedCopyNamedAfterItNotATemporaryFile() throws Exception {
        Path a = ModelSource.resolve("vit-fmnist");
        Path b = ModelSource.resolve("vit-fmnist");
        assertEquals(a, b, "the same copy each time");
        assertTrue(a.getFileName().toString().startsWith("vit-fmnist-"), a.toString());
        Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toRealPath();
        assertFalse(a.getParent().toRealPath().equals(tmp), "not a loose file in the temporary directory: " + a);
        try (var in = ModelSource.class.getResourceAsStream("/dev/flora/models/vit-fmnist.safetensors")) {
            assertTrue(java.util.Arrays.equals(in.readAllBytes(), Files.readAllBytes(a)), "a faithful copy");
        }
        Path space = ModelSource.resolveSearchSpace("vit-fmnist-filtered");
        assertEquals(space, ModelSource.resolveSearchSpace("vit-fmnist-filtered"));
    }

    @Test
    void anErrorAboutABundledModelNamesItNotItsCopy() {
        try (CpuBackend cpu = new CpuBackend()) {
            FormatException e = assertThrows(FormatException.class,
                    () -> ModelSource.open("vit-fmnist", cpu, OptionalInt.of(8)));
            assertTrue(e.getMessage().startsWith("bundled model vit-fmnist: --num-heads 8"), e.getMessage());
        }
    }

    @Test
    void aCopyCutShortIsWrittenAgain() throws Exception {
        Path a = ModelSource.resolve("vit-fmnist-uniform");
        byte[] whole = Files.readAllBytes(a);
        Files.write(a, java.util.Arrays.copyOf(whole, 100));
        assertEquals(a, ModelSource.resolve("vit-fmnist-uniform"));
        assertEquals(whole.length, Files.size(a), "a damaged copy is written again");
    }
}
