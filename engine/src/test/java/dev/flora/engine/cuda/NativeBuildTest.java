package dev.flora.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * What native/build.sh produced in this build: the ThreadSanitizer racecheck runs clean, and
 * the ptxas report shows no spills in the fused low-rank kernels and agrees with docs/kernels.md.
 */
class NativeBuildTest {
    private static final Path NATIVE = Path.of("target", "native");

    @Test
    void threadSanitizerFindsNoRaceInTheKernels() throws Exception {
        Path racecheck = NATIVE.resolve("racecheck");
        assertTrue(Files.isExecutable(racecheck), "native/build.sh builds " + racecheck);
        Process p = new ProcessBuilder(racecheck.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = p.waitFor();
        assertFalse(out.contains("ThreadSanitizer"), out);
        assertEquals(0, code, out);
        assertTrue(out.contains("kernels ran"), out);
    }

    /** kernel -> {registers, spill stores, spill loads, static shared bytes}, from ptxas -v. */
    static Map<String, int[]> parseReport(List<String> lines) {
        Pattern entry = Pattern.compile("Compiling entry function '(\\w+)'");
        Pattern spills = Pattern.compile("(\\d+) bytes spill stores, (\\d+) bytes spill loads");
        Pattern used = Pattern.compile("Used (\\d+) registers(?:.*?(\\d+) bytes smem)?");
        Map<String, int[]> out = new TreeMap<>();
        String current = null;
        for (String line : lines) {
            Matcher m = entry.matcher(line);
            if (m.find()) {
                current = m.group(1);
                out.put(current, new int[4]);
                continue;
            }
            if (current == null) {
                continue;
            }
            m = spills.matcher(line);
            if (m.find()) {
                out.get(current)[1] = Integer.parseInt(m.group(1));
                out.get(current)[2] = Integer.parseInt(m.group(2));
            }
            m = used.matcher(line);
            if (m.find()) {
                out.get(current)[0] = Integer.parseInt(m.group(1));
                out.get(current)[3] = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
            }
        }
        return out;
    }

    @Test
    void fusedLowRankKernelsDoNotSpillAndTheDocsAreCurrent() throws IOException {
        Path report = NATIVE.resolve("ptxas.txt");
        Assumptions.assumeTrue(Files.exists(report), "nvcc was not found at build time; no ptxas report");
        Map<String, int[]> kernels = parseReport(Files.readAllLines(report));
        List<String> lowrank = new ArrayList<>();
        kernels.forEach((name, k) -> {
            if (name.startsWith("lowrank_")) {
                lowrank.add(name);
                assertEquals(0, k[1] + k[2], name + " spills");
            }
        });
        assertEquals(5, lowrank.size(), "all fused low-rank kernels reported: " + lowrank);
        String docs = Files.readString(Path.of("..", "docs", "kernels.md"));
        for (var e : kernels.entrySet()) {
            assertTrue(docs.contains("| `" + e.getKey() + "` | " + e.getValue()[0] + " |"), "docs/kernels.md lists "
                    + e.getKey() + " with " + e.getValue()[0] + " registers (regenerate with native/kernels-doc.sh)");
        }
    }
}
