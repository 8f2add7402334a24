package dev.flora.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.nn.LowRankLinear;
import dev.flora.engine.nn.ModelTestSupport;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelIOTest {
    private final Backend backend = new CpuBackend();

    @TempDir
    Path dir;

    private VisionTransformer randomModel(Map<String, Integer> lowRank) {
        VisionTransformer m = VisionTransformer.withLowRank(backend, ModelTestSupport.tinyConfig(), lowRank);
        ModelTestSupport.randomize(m, new Random(3), 0.3);
        return m;
    }

    private float[] logits(VisionTransformer m) {
        int batch = 2;
        Tensor x = backend.allocate(batch * m.config().imageSize());
        float[] v = new float[(int) x.numel()];
        Random r = new Random(5);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        backend.upload(v, 0, x);
        return backend.download(m.forward(x, batch));
    }

    @Test
    void saveAndLoadGiveTheSameModel() {
        VisionTransformer m = randomModel(Map.of("blocks.1.mlp.fc1", 5));
        Path p = dir.resolve("m.safetensors");
        ModelIO.save(m, p, Map.of("note", "x"));
        VisionTransformer back = ModelIO.load(p, backend, OptionalInt.empty());
        assertEquals(m.config(), back.config());
        assertEquals(5, ((LowRankLinear) back.linears().get("blocks.1.mlp.fc1")).maxRank());
        assertArrayEquals(logits(m), logits(back));
    }

    @Test
    void configIsInferredFromShapesWithoutMetadata() {
        VisionTransformer m = randomModel(Map.of());
        Path p = dir.resolve("plain.safetensors");
        SafeTensors.write(p, ModelIO.weights(m), Map.of());
        FormatException e = assertThrows(FormatException.class, () -> ModelIO.load(p, backend, OptionalInt.empty()));
        assertTrue(e.getMessage().contains("--num-heads"), e.getMessage());
        ViTConfig c = ModelIO.load(p, backend, OptionalInt.of(2)).config();
        ViTConfig t = ModelTestSupport.tinyConfig();
        assertEquals(t.imgSize(), c.imgSize());
        assertEquals(t.patchSize(), c.patchSize());
        assertEquals(t.embedDim(), c.embedDim());
        assertEquals(t.depth(), c.depth());
        assertEquals(t.mlpRatio(), c.mlpRatio());
        assertEquals(t.numClasses(), c.numClasses());
    }

    @Test
    void wrongShapeNamesTheTensorAndTheExpectedShape() {
        VisionTransformer m = randomModel(Map.of());
        Map<String, TensorData> w = new LinkedHashMap<>(ModelIO.weights(m));
        w.put("blocks.0.attn.proj.weight", new TensorData(new int[] {8, 7}, new float[56]));
        Path p = dir.resolve("bad.safetensors");
        SafeTensors.write(p, w, ModelIO.configMetadata(m.config()));
        FormatException e = assertThrows(FormatException.class, () -> ModelIO.load(p, backend, OptionalInt.empty()));
        assertTrue(e.getMessage().contains("blocks.0.attn.proj.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("[8, 8]"), e.getMessage());
    }

    @Test
    void missingAndUnexpectedTensorsAreNamed() {
        VisionTransformer m = randomModel(Map.of());
        Map<String, TensorData> w = new LinkedHashMap<>(ModelIO.weights(m));
        w.remove("blocks.1.norm2.bias");
        Path p = dir.resolve("missing.safetensors");
        SafeTensors.write(p, w, ModelIO.configMetadata(m.config()));
        assertTrue(assertThrows(FormatException.class, () -> ModelIO.load(p, backend, OptionalInt.empty()))
                .getMessage().contains("missing tensor blocks.1.norm2.bias"));
        Map<String, TensorData> extra = new LinkedHashMap<>(ModelIO.weights(m));
        extra.put("dist_token", new TensorData(new int[] {1, 1, 8}, new float[8]));
        Path q = dir.resolve("extra.safetensors");
        SafeTensors.write(q, extra, ModelIO.configMetadata(m.config()));
        assertTrue(assertThrows(FormatException.class, () -> ModelIO.load(q, backend, OptionalInt.empty()))
                .getMessage().contains("unexpected tensor dist_token"));
    }

    @Test
    void aFileThatIsNotAViTSaysSo() {
        Path p = dir.resolve("other.safetensors");
        SafeTensors.write(p, Map.of("encoder.weight", new TensorData(new int[] {2}, new float[2])), Map.of());
        FormatException e = assertThrows(FormatException.class, () -> ModelIO.load(p, backend, OptionalInt.empty()));
        assertTrue(e.getMessage().contains("not a ViT checkpoint"), e.getMessage());
    }

    @Test
    void metadataThatContradictsShapesIsRejected() {
        VisionTransformer m = randomModel(Map.of());
        Map<String, String> meta = new LinkedHashMap<>(ModelIO.configMetadata(m.config()));
        meta.put("depth", "3");
        Path p = dir.resolve("liar.safetensors");
        SafeTensors.write(p, ModelIO.weights(m), meta);
        assertTrue(assertThrows(FormatException.class, () -> ModelIO.load(p, backend, OptionalInt.empty()))
                .getMessage().contains("disagrees"));
    }
}
