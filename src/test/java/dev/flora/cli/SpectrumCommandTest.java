package dev.flora.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code flora spectrum} on the golden backbone: the PNG, and one CSV row per singular value of every block linear. */
class SpectrumCommandTest {
    @TempDir
    Path dir;

    @Test
    void writesThePlotAndOneRowPerSingularValue() throws Exception {
        String backbone = Path.of(SpectrumCommandTest.class.getResource("/golden/timm_vit_tiny_fmnist.safetensors")
                .toURI()).toString();
        Path png = dir.resolve("spectra.png");
        Path csv = dir.resolve("spectra.csv");
        CliRunner.Run r = CliRunner.run("spectrum", "--model", backbone, "--model", backbone, "--out", png.toString(),
                "--csv", csv.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.err() + r.out());
        byte[] head = Files.readAllBytes(png);
        assertTrue(head.length > 1000 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G', "a PNG");
        List<String> lines = Files.readAllLines(csv);
        assertEquals("model,module,type,i,fraction,ratio", lines.get(0));
        // the golden model: 2 blocks of 4 linears, embed dim 32, so min(in, out) = 32 each; twice, for two --model
        assertEquals(2 * 2 * 4 * 32, lines.size() - 1);
        assertEquals(2 * 32, lines.stream().filter(l -> l.contains(",blocks.1.mlp.fc2,mlp.fc2,")).count());
        assertTrue(lines.stream().anyMatch(l -> l.contains(",blocks.1.mlp.fc2,mlp.fc2,1,") && l.endsWith(",1.0000000")),
                "sigma_1 / sigma_1 = 1: " + lines.get(1));
        CliRunner.Run bad = CliRunner.run("spectrum", "--model", dir.resolve("missing.safetensors").toString(),
                "--out", png.toString(), "--device", "cpu");
        assertEquals(2, bad.code(), bad.err());
    }
}
