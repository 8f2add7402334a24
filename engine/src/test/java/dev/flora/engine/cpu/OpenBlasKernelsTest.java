package dev.flora.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OpenBlasKernelsTest {

    @Test
    void propertyValuesMapToTheEnvironmentEdit() {
        assertNull(OpenBlasKernels.coreTypeFor("inherit"));
        assertNull(OpenBlasKernels.coreTypeFor(""));
        assertEquals("", OpenBlasKernels.coreTypeFor("detect"));
        assertEquals("SkylakeX", OpenBlasKernels.coreTypeFor(" SkylakeX "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OpenBlasKernels.coreTypeFor("Sky lake;"));
        assertTrue(e.getMessage().contains(OpenBlasKernels.PROPERTY), e.getMessage());
    }

    /**
     * The property reaches OpenBLAS, which reads its environment once, at load: a fresh JVM
     * started with OPENBLAS_CORETYPE=Haswell runs the kernels the property names instead.
     */
    @Test
    void theKernelsThePropertyNamesAreTheOnesThatRun() throws Exception {
        assertEquals("Haswell", coreInFreshJvm(null));
        assertEquals("Sandybridge", coreInFreshJvm("Sandybridge"));
        assertEquals("Haswell", coreInFreshJvm("inherit"));
        // detect drops the pin: on an AVX-512 CPU OpenBLAS's own pick is not the AVX2 set
        String detected = coreInFreshJvm("detect");
        assertTrue(!detected.isEmpty(), detected);
        if (Files.readString(Path.of("/proc/cpuinfo")).contains(" avx512f")) {
            assertNotEquals("Haswell", detected);
        }
    }

    /** Runs {@link OpenBlasCoreProbe} in a new JVM with OPENBLAS_CORETYPE=Haswell set. */
    private static String coreInFreshJvm(String property) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (property != null) {
            cmd.add("-D" + OpenBlasKernels.PROPERTY + "=" + property);
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(OpenBlasCoreProbe.class.getName());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("OPENBLAS_CORETYPE", "Haswell");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, p.waitFor(), out);
        String[] lines = out.split("\n");
        return lines[lines.length - 1].trim();
    }
}
