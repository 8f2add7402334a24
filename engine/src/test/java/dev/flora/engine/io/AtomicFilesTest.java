package dev.flora.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Output that cannot be written fails in one line naming it; leftovers of killed writes are cleared. */
class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aFullDiskNamesTheTargetAndLeavesNoTemporaryFile() throws IOException {
        // the seam: a writer failing as FileChannel.write does on ENOSPC
        Path target = dir.resolve("model.safetensors");
        OutputException e = assertThrows(OutputException.class, () -> AtomicFiles.write(target, ch -> {
            throw new IOException("No space left on device");
        }));
        assertEquals("cannot write " + target + ": No space left on device", e.getMessage());
        assertEquals(List.of(), names());
    }

    @Test
    void aDirectoryInThePlaceOfTheFileIsRefused() throws IOException {
        Path target = Files.createDirectory(dir.resolve("out.safetensors"));
        OutputException e = assertThrows(OutputException.class, () -> AtomicFiles.writeString(target, "x"));
        assertEquals("cannot write " + target + ": it is a directory", e.getMessage());
        assertTrue(Files.isDirectory(target), "the directory is left as it was");
    }

    @Test
    void aFileInThePlaceOfTheDirectoryIsRefused() throws IOException {
        Path file = Files.writeString(dir.resolve("hostname"), "h");
        OutputException e = assertThrows(OutputException.class,
                () -> AtomicFiles.writeString(file.resolve("run/config.yaml"), "x"));
        assertTrue(e.getMessage().startsWith("cannot create the directory " + file.resolve("run") + ": "),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void outputHasTheUmasksPermissionsNotTheTemporaryFilesOwnerOnlyOnes() throws IOException {
        Set<PosixFilePermission> usual = Files.getPosixFilePermissions(Files.createFile(dir.resolve("plain")));
        Path target = dir.resolve("written");
        AtomicFiles.writeString(target, "x");
        assertEquals(usual, Files.getPosixFilePermissions(target));
    }

    @Test
    void staleTemporaryFilesOfKilledWritesAreRemovedAndNothingElse() throws IOException {
        Files.writeString(dir.resolve(".checkpoint.safetensors.4242.tmp"), "half");
        Files.writeString(dir.resolve(".config.yaml.7.tmp"), "half");
        Files.writeString(dir.resolve("checkpoint.safetensors"), "whole");
        Files.writeString(dir.resolve("notes.tmp"), "the user's");
        assertEquals(2, AtomicFiles.removeStaleTemps(dir));
        assertEquals(List.of("checkpoint.safetensors", "notes.tmp"), names());
    }
}
