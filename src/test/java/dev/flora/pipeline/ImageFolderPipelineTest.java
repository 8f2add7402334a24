package dev.flora.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.cli.CliRunner;
import dev.flora.data.ImageFolderFixture;
import dev.flora.engine.io.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FLORA end to end on real image files: a small 3-channel ViT pre-trained on a folder of RGB
 * PNG and JPEG files of assorted sizes, then {@code flora compress} on the same folder; the
 * class names and the preprocessing travel into every model written.
 */
class ImageFolderPipelineTest {
    @TempDir
    Path dir;

    @Test
    void pretrainAndCompressOnAnImageFolder() throws Exception {
        Path data = ImageFolderFixture.trainVal(dir.resolve("shapes"), 60, 12, 11);
        Path pre = dir.resolve("pretrain");
        CliRunner.Run p = CliRunner.run("pretrain", "--data", data.toString(), "--out", pre.toString(), "--img-size",
                "16", "--in-chans", "3", "--patch-size", "4", "--embed-dim", "32", "--depth", "2", "--num-heads", "2",
                "--epochs", "3", "--batch-size", "16", "--lr", "2e-3");
        assertEquals(0, p.code(), p.err() + p.out());
        Path model = pre.resolve("model.safetensors");
        Map<String, String> meta = SafeTensors.open(model).metadata();
        assertEquals("[\"circle\",\"square\",\"triangle\"]", meta.get("class_names"));
        assertEquals("0.875", meta.get("crop_pct"), "files of other sizes are evaluated the timm way");
        assertEquals("bicubic", meta.get("interpolation"));
        assertEquals("3", meta.get("num_classes"), "one output per class folder");

        CliRunner.Run ev = CliRunner.run("eval", "--model", model.toString(), "--data", data.toString(), "--json");
        assertEquals(0, ev.code(), ev.err());
        JsonNode e = new ObjectMapper().readTree(ev.out().strip());
        assertEquals(36, e.get("count").asInt(), "the test split is val/");
        assertTrue(e.get("top1").asDouble() > 50, "learnable classes are learnt: " + e);
        assertTrue(!ev.err().contains("note:"), "nothing defaulted for a model flora-j wrote: " + ev.err());

        Path out = dir.resolve("compress");
        CliRunner.Run c = CliRunner.run("compress", "--model", model.toString(), "--data", data.toString(), "--out",
                out.toString(), "--supernet-epochs", "1", "--set", "supernet.batch_size=16", "--set",
                "search.population=6", "--set", "search.top_k=2", "--set", "search.mutations=2", "--set",
                "search.crossovers=2", "--set", "search.generations=2");
        assertEquals(0, c.code(), c.err() + c.out());
        for (String f : new String[] {"flora.safetensors", "uniform.safetensors", "results.json", "summary.md"}) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        Map<String, String> flora = SafeTensors.open(out.resolve("flora.safetensors")).metadata();
        assertEquals(meta.get("class_names"), flora.get("class_names"));
        assertEquals(meta.get("crop_pct"), flora.get("crop_pct"));
        assertEquals(meta.get("input_mean"), flora.get("input_mean"));
    }
}
