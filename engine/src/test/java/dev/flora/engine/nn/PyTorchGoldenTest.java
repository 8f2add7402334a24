package dev.flora.engine.nn;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LossResult;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.io.SafeTensors;
import dev.flora.engine.tensor.Tensor;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Logits, loss and every parameter gradient of a 2-block ViT with two low-rank modules at
 * r &lt; R, against PyTorch (fixture written by {@code tools/fixtures/make_golden.py} with
 * Debian's python3-torch; this test needs no Python).
 */
class PyTorchGoldenTest {
    private static final double TOLERANCE = 1e-4;

    protected Backend backend() {
        return new CpuBackend();
    }

    static Path golden(String name) throws URISyntaxException {
        return Path.of(PyTorchGoldenTest.class.getResource("/golden/" + name).toURI());
    }

    @Test
    void logitsLossAndGradientsMatchPyTorch() throws Exception {
        SafeTensors f = SafeTensors.open(golden("vit2_lowrank.safetensors"));
        Map<String, String> meta = f.metadata();
        ViTConfig cfg = new ViTConfig(Integer.parseInt(meta.get("img_size")), Integer.parseInt(meta.get("patch_size")),
                Integer.parseInt(meta.get("in_chans")), Integer.parseInt(meta.get("embed_dim")),
                Integer.parseInt(meta.get("depth")), Integer.parseInt(meta.get("num_heads")),
                Double.parseDouble(meta.get("mlp_ratio")), Integer.parseInt(meta.get("num_classes")),
                new double[] {0, 0, 0}, new double[] {1, 1, 1});
        Map<String, Integer> maxRanks = new TreeMap<>();
        Map<String, Integer> ranks = new TreeMap<>();
        for (String key : meta.keySet()) {
            if (key.startsWith("rank.")) {
                String path = key.substring("rank.".length());
                maxRanks.put(path, f.entry("param." + path + ".VT.weight").shape()[0]);
                ranks.put(path, Integer.parseInt(meta.get(key)));
            }
        }
        assertEquals(2, ranks.size(), "fixture has two low-rank modules");
        Backend backend = backend();
        VisionTransformer model = VisionTransformer.withLowRank(backend, cfg, maxRanks);
        ranks.forEach((path, r) -> ((LowRankLinear) model.linears().get(path)).setRank(r));
        for (Param p : model.arena().params()) {
            backend.upload(f.read("param." + p.name()), 0, p.value());
        }
        float[] images = f.read("input.images");
        float[] labelsF = f.read("input.labels");
        int batch = labelsF.length;
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = Math.round(labelsF[i]);
        }
        Tensor in = backend.allocate(images.length);
        backend.upload(images, 0, in);

        Tensor logits = model.forward(in, batch);
        assertClose("logits vs PyTorch", backend.download(logits), toDouble(f.read("output.logits")), TOLERANCE);
        Tensor dLogits = backend.allocate(batch * cfg.numClasses());
        LossResult loss = backend.crossEntropy(logits, labels, dLogits, batch, cfg.numClasses(),
                Float.parseFloat(meta.get("label_smoothing")), 1f / batch, false);
        double expectedLoss = f.read("output.loss")[0];
        assertEquals(expectedLoss, loss.meanLoss(), TOLERANCE * Math.abs(expectedLoss), "loss vs PyTorch");

        model.arena().zeroGrads();
        model.backward(dLogits);
        int checked = 0;
        for (Param p : model.arena().params()) {
            assertClose("gradient of " + p.name() + " vs PyTorch", backend.download(p.grad()),
                    toDouble(f.read("grad." + p.name())), TOLERANCE);
            checked++;
        }
        assertEquals(model.arena().params().size(), checked);
    }
}
