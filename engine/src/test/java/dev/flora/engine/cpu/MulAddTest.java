package dev.flora.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MulAddTest {
    /** a·a = 1 + 2^-11 + 2^-24: a float product rounds the last term away, a fused one keeps it. */
    private static final float A = 1f + 0x1p-12f;
    private static final float C = -(1f + 0x1p-11f);

    @Test
    void roundsOnceWhenFusedAndTwiceOtherwise() {
        assertEquals(MulAdd.FUSED ? 0x1p-24f : 0f, MulAdd.of(A, A, C));
    }

    @Test
    void findsTheFusedMultiplyAddOfAnX86CpuThatHasOne() throws IOException {
        // every CI and development machine of this project is an x86 with FMA; elsewhere this
        // checks only that a CPU without one is not claimed to have it
        if (cpuListsFma()) {
            assertEquals(true, MulAdd.FUSED, "UseFMA not found on a CPU whose flags list fma");
        } else if (isX86() && Files.isReadable(CPUINFO)) {
            assertEquals(false, MulAdd.FUSED, "fused multiply-add claimed on an x86 CPU without fma");
        }
    }

    private static final Path CPUINFO = Path.of("/proc/cpuinfo");

    private static boolean isX86() {
        return System.getProperty("os.arch").matches("amd64|x86_64");
    }

    /** Whether this is an x86 whose /proc/cpuinfo flags list fma. */
    static boolean cpuListsFma() throws IOException {
        return isX86() && Files.isReadable(CPUINFO)
                && Files.readAllLines(CPUINFO).stream().anyMatch(l -> l.startsWith("flags") && l.contains(" fma "));
    }
}
