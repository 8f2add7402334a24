package dev.flora.engine.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.nn.LinearSpec;
import dev.flora.engine.nn.LowRankLinear;
import dev.flora.engine.nn.ModelTestSupport;
import dev.flora.engine.backend.Region;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Weight inheritance under the optimizer: a step taken at rank r moves VT[:r, :] and U[:, :r]
 * only; the slices beyond r (and unused SPOS choices) stay bit-identical, momentum and weight
 * decay included. A dense model's regions cover every parameter.
 */
class SliceUpdateTest {
    private final Backend backend = new CpuBackend();

    private void trainSteps(VisionTransformer m, AdamW opt, int steps) {
        ViTConfig c = m.config();
        Random rng = new Random(3);
        Tensor x = backend.allocate(2 * c.imageSize());
        float[] img = new float[2 * c.imageSize()];
        Tensor dl = backend.allocate(2 * c.numClasses());
        for (int s = 0; s < steps; s++) {
            for (int i = 0; i < img.length; i++) {
                img[i] = (float) rng.nextGaussian();
            }
            backend.upload(img, 0, x);
            m.arena().zeroGrads();
            Tensor logits = m.forward(x, 2);
            backend.crossEntropy(logits, new int[] {0, 1}, dl, 2, c.numClasses(), 0f, 0.5f, false);
            m.backward(dl);
            opt.step(1e-2f, m.trainableRegions());
        }
    }

    @Test
    void rankRStepsLeaveTheSlicesBeyondRUntouched() {
        VisionTransformer m = VisionTransformer.withLowRank(backend, ModelTestSupport.tinyConfig(),
                Map.of("blocks.0.mlp.fc1", 8));
        ModelTestSupport.randomize(m, new Random(1), 0.3);
        LowRankLinear l = (LowRankLinear) m.linears().get("blocks.0.mlp.fc1");
        AdamW opt = new AdamW(m.arena(), 0.1f);
        l.setRank(8);
        trainSteps(m, opt, 2); // full rank first: every slice gets momentum
        float[] vtBefore = backend.download(l.vt().value());
        float[] uBefore = backend.download(l.u().value());
        l.setRank(3);
        trainSteps(m, opt, 3);
        float[] vt = backend.download(l.vt().value());
        float[] u = backend.download(l.u().value());
        int in = l.inFeatures();
        for (int i = 0; i < vt.length; i++) {
            if (i < 3 * in) {
                assertNotEquals(vtBefore[i], vt[i], "VT[:3] trains");
            } else {
                assertEquals(vtBefore[i], vt[i], "VT row " + i / in + " beyond rank 3 must not move");
            }
        }
        for (int o = 0; o < l.outFeatures(); o++) {
            for (int k = 0; k < 8; k++) {
                if (k >= 3) {
                    assertEquals(uBefore[o * 8 + k], u[o * 8 + k], "U column " + k + " beyond rank 3 must not move");
                }
            }
        }
    }

    @Test
    void unusedChoicesOfAChoiceBlockDoNotMove() {
        VisionTransformer m = new VisionTransformer(backend, ModelTestSupport.tinyConfig(),
                Map.of("blocks.1.attn.qkv", new LinearSpec.IndependentRanks(new int[] {2, 5})));
        ModelTestSupport.randomize(m, new Random(2), 0.3);
        m.setRank("blocks.1.attn.qkv", 5);
        AdamW opt = new AdamW(m.arena(), 0.1f);
        String other = "blocks.1.attn.qkv.choices.0.VT.weight";
        float[] before = backend.download(m.arena().get(other).value());
        trainSteps(m, opt, 2);
        assertEquals(java.util.Arrays.toString(before),
                java.util.Arrays.toString(backend.download(m.arena().get(other).value())));
    }

    @Test
    void aDenseModelsRegionsUpdateExactlyWhatAFullStepUpdates() {
        VisionTransformer a = new VisionTransformer(backend, ModelTestSupport.tinyConfig());
        VisionTransformer b = new VisionTransformer(backend, ModelTestSupport.tinyConfig());
        ModelTestSupport.randomize(a, new Random(4), 0.3);
        ModelTestSupport.randomize(b, new Random(4), 0.3);
        float[] g = new float[(int) a.arena().size()];
        Random r = new Random(5);
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) r.nextGaussian();
        }
        for (VisionTransformer m : List.of(a, b)) {
            backend.upload(g, 0, m.arena().grads());
        }
        new AdamW(a.arena(), 0.1f).step(1e-2f);
        List<Region> regions = b.trainableRegions();
        new AdamW(b.arena(), 0.1f).step(1e-2f, regions);
        float[] pa = backend.download(a.arena().values());
        float[] pb = backend.download(b.arena().values());
        for (var p : a.arena().params()) {
            for (int i = 0; i < p.numel(); i++) {
                int k = (int) p.offset() + i;
                assertEquals(pa[k], pb[k], p.name());
            }
        }
        assertEquals(true, regions.size() < a.arena().params().size(), "adjacent parameters are merged");
    }
}
