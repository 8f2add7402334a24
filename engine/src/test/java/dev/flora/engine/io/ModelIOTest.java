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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
        extra.put("head_dist.weight", new TensorData(new int[] {3, 8}, new float[24]));
        Path q = dir.resolve("extra.safetensors");
        SafeTensors.write(q, extra, ModelIO.configMetadata(m.config()));
        assertTrue(assertThrows(FormatException.class, () -> ModelIO.load(q, backend, OptionalInt.empty()))
                .getMessage().contains("unexpected tensor head_dist.weight"));
    }

    /** timm/HF hub files carry {"format": "pt"} only: the heads come from the standard DeiT widths. */
    @ParameterizedTest
    @CsvSource({"192, 3", "384, 6", "768, 12"})
    void aPublishedFileTakesItsHeadsFromTheStandardWidth(int width, int heads) {
        ViTConfig c = new ViTConfig(32, 16, 3, width, 1, heads, 1.0, 5, new double[] {0.485, 0.456, 0.406},
                new double[] {0.229, 0.224, 0.225});
        Path p = dir.resolve("pt.safetensors");
        SafeTensors.write(p, ModelIO.weights(new VisionTransformer(backend, c)), Map.of("format", "pt"));
        assertEquals(c, ModelIO.load(p, backend, OptionalInt.empty()).config());
    }

    @Test
    void aHeadsFlagThatContradictsTheMetadataFails() {
        VisionTransformer m = randomModel(Map.of());
        Path p = dir.resolve("m.safetensors");
        ModelIO.save(m, p, Map.of());
        assertEquals(2, ModelIO.load(p, backend, OptionalInt.of(2)).config().numHeads(), "agreeing is fine");
        FormatException e = assertThrows(FormatException.class, () -> ModelIO.load(p, backend, OptionalInt.of(4)));
        assertTrue(e.getMessage().contains("--num-heads 4") && e.getMessage().contains("num_heads 2"),
                e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void aDistilledModelRoundTrips() {
        VisionTransformer m = VisionTransformer.withLowRank(backend, ModelTestSupport.tinyConfig().withDistilled(true),
                Map.of("blocks.0.mlp.fc2", 3));
        ModelTestSupport.randomize(m, new Random(4), 0.3);
        Path p = dir.resolve("distilled.safetensors");
        ModelIO.save(m, p, Map.of());
        assertTrue(SafeTensors.open(p).contains("dist_token") && SafeTensors.open(p).contains("head_dist.bias"));
        VisionTransformer back = ModelIO.load(p, backend, OptionalInt.empty());
        assertTrue(back.config().distilled());
        assertArrayEquals(logits(m), logits(back));
        Map<String, TensorData> w = new LinkedHashMap<>(ModelIO.weights(m));
        w.remove("head_dist.weight");
        w.remove("head_dist.bias");
        Path headless = dir.resolve("no-head-dist.safetensors");
        SafeTensors.write(headless, w, Map.of());
        assertTrue(assertThrows(FormatException.class, () -> ModelIO.load(headless, backend, OptionalInt.of(2)))
                .getMessage().contains("dist_token without head_dist.weight"));
    }

    /** Each variant of timm's VisionTransformer that flora-j lacks fails naming its tensor. */
    @ParameterizedTest
    @CsvSource({"blocks.0.ls1.gamma, LayerScale", "blocks.1.ls2.gamma, LayerScale", "reg_token, register tokens",
        "fc_norm.weight, fc_norm", "norm_pre.bias, pre_norm", "blocks.0.attn.q_norm.weight, qk_norm"})
    void unsupportedVariantsAreNamedByTheirTensor(String tensor, String variant) {
        Map<String, TensorData> w = new LinkedHashMap<>(ModelIO.weights(randomModel(Map.of())));
        w.put(tensor, new TensorData(new int[] {8}, new float[8]));
        Path p = dir.resolve("variant.safetensors");
        SafeTensors.write(p, w, Map.of("format", "pt"));
        String message = assertThrows(FormatException.class, () -> ModelIO.load(p, backend, OptionalInt.of(2)))
                .getMessage();
        assertTrue(message.contains("tensor " + tensor) && message.contains(variant)
                && message.contains("does not support"), message);
    }

    @Test
    void noClassTokenAndPositionsWithoutThePrefixAreNamed() {
        VisionTransformer m = randomModel(Map.of());
        Map<String, TensorData> w = new LinkedHashMap<>(ModelIO.weights(m));
        w.remove("cls_token");
        Path avg = dir.resolve("avg.safetensors");
        SafeTensors.write(avg, w, Map.of("format", "pt"));
        String message = assertThrows(FormatException.class, () -> ModelIO.load(avg, backend, OptionalInt.of(2)))
                .getMessage();
        assertTrue(message.contains("cls_token") && message.contains("not supported"), message);
        Map<String, TensorData> v = new LinkedHashMap<>(ModelIO.weights(m));
        v.put("pos_embed", new TensorData(new int[] {1, 4, 8}, new float[32])); // the 2x2 patches alone
        Path noEmbedClass = dir.resolve("no-embed-class.safetensors");
        SafeTensors.write(noEmbedClass, v, Map.of("format", "pt"));
        message = assertThrows(FormatException.class, () -> ModelIO.load(noEmbedClass, backend, OptionalInt.of(2)))
                .getMessage();
        assertTrue(message.contains("pos_embed") && message.contains("no_embed_class"), message);
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
    /** Issue 27 item 3: a NaN or Inf weight, or a normalization that divides by zero, is refused at load. */
    @Test
    void nonFiniteWeightsAndDegenerateNormalizationAreRefused() {
        VisionTransformer m = randomModel(Map.of());
        Map<String, String> meta = ModelIO.configMetadata(m.config());
        for (String tensor : new String[] {"head.weight", "patch_embed.proj.weight"}) {
            Map<String, TensorData> w = new LinkedHashMap<>(ModelIO.weights(m));
            float[] v = w.get(tensor).data();
            v[v.length / 2] = tensor.startsWith("head") ? Float.NaN : Float.POSITIVE_INFINITY;
            w.put(tensor, new TensorData(w.get(tensor).shape(), v));
            Path p = dir.resolve("nonfinite.safetensors");
            SafeTensors.write(p, w, meta);
            assertLoadFails(p, "tensor " + tensor, "non-finite");
        }
        String[][] degenerate = {{"input_std", "0"}, {"input_std", "0,0.25"}, {"input_std", "-1,0.25"},
            {"input_std", "Infinity,0.25"}, {"input_mean", "NaN,0.5"}, {"mlp_ratio", "Infinity"},
            {"mlp_ratio", "3.0"}};
        for (String[] kv : degenerate) {
            Map<String, String> bad = new LinkedHashMap<>(meta);
            bad.put(kv[0], kv[1]);
            Path p = dir.resolve("degenerate.safetensors");
            SafeTensors.write(p, ModelIO.weights(m), bad);
            assertLoadFails(p, kv[0]);
        }
    }

    /** Issue 27 item 5: block indices are bounded by the blocks present, and factors have a rank. */
    @Test
    void absurdBlockIndicesAndRankZeroFactorsNameTheTensor() {
        VisionTransformer m = randomModel(Map.of("blocks.0.mlp.fc1", 3));
        for (String index : new String[] {"9999999999", "50000", "2500", "3"}) {
            Map<String, TensorData> w = new LinkedHashMap<>(ModelIO.weights(m));
            w.put("blocks." + index + ".norm1.weight", new TensorData(new int[] {8}, new float[8]));
            Path p = dir.resolve("deep.safetensors");
            SafeTensors.write(p, w, Map.of("format", "pt"));
            assertLoadFails(p, "blocks." + index + ".norm1.weight", "missing tensor blocks.2.");
        }
        Map<String, TensorData> w = new LinkedHashMap<>(ModelIO.weights(m));
        w.put("blocks.0.mlp.fc1.VT.weight", new TensorData(new int[] {0, 8}, new float[0]));
        w.put("blocks.0.mlp.fc1.U.weight", new TensorData(new int[] {16, 0}, new float[0]));
        Path rankZero = dir.resolve("rank0.safetensors");
        SafeTensors.write(rankZero, w, ModelIO.configMetadata(m.config()));
        assertLoadFails(rankZero, "tensor blocks.0.mlp.fc1.VT.weight", "rank");
        Map<String, TensorData> c = new LinkedHashMap<>(ModelIO.weights(m));
        c.put("blocks.0.attn.qkv.choices.99999999999.VT.weight", new TensorData(new int[] {1, 8}, new float[8]));
        Path choice = dir.resolve("choice.safetensors");
        SafeTensors.write(choice, c, ModelIO.configMetadata(m.config()));
        assertLoadFails(choice, "blocks.0.attn.qkv.choices.99999999999.VT.weight");
    }

    private void assertLoadFails(Path file, String... words) {
        FormatException e = assertThrows(FormatException.class, () -> ModelIO.load(file, backend, OptionalInt.of(2)));
        String msg = e.getMessage();
        assertTrue(msg.startsWith(file.toString()) && msg.lines().count() == 1, msg);
        for (String word : words) {
            assertTrue(msg.contains(word), msg);
        }
    }
}
