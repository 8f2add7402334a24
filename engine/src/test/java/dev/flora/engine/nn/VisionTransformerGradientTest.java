package dev.flora.engine.nn;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.Compare.toFloat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LossResult;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.reference.FiniteDifference;
import dev.flora.engine.reference.Ref;
import dev.flora.engine.reference.RefViT;
import dev.flora.engine.tensor.Tensor;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A whole 2-block ViT, with two modules low-rank at r &lt; R: logits against the double
 * reference, and every parameter gradient against central finite differences of the
 * reference loss. Slices beyond the active rank must receive exactly zero gradient. The same
 * for a distilled DeiT (distillation token, two heads averaged).
 */
class VisionTransformerGradientTest {
    private static final Map<String, Integer> MAX_RANKS = Map.of("blocks.0.attn.qkv", 6, "blocks.1.mlp.fc2", 8);
    private static final Map<String, Integer> ACTIVE = Map.of("blocks.0.attn.qkv", 4, "blocks.1.mlp.fc2", 3);

    protected Backend backend() {
        return new CpuBackend();
    }

    @Test
    void everyParameterGradientMatchesFiniteDifferences() {
        checkGradients(ModelTestSupport.tinyConfig());
    }

    @Test
    void everyParameterGradientOfADistilledModelMatchesFiniteDifferences() {
        checkGradients(ModelTestSupport.tinyConfig().withDistilled(true));
    }

    private void checkGradients(ViTConfig cfg) {
        Backend backend = backend();
        VisionTransformer model = VisionTransformer.withLowRank(backend, cfg, MAX_RANKS);
        ACTIVE.forEach((path, r) -> ((LowRankLinear) model.linears().get(path)).setRank(r));
        Random rng = new Random(7);
        Map<String, double[]> params = ModelTestSupport.randomize(model, rng, 0.5);

        int batch = 3;
        double[] images = toDouble(toFloat(randoms(rng, batch * cfg.imageSize())));
        int[] labels = {0, 2, 1};
        float smoothing = 0.1f;
        Tensor img = backend.allocate(batch * cfg.imageSize());
        backend.upload(toFloat(images), 0, img);

        Tensor logits = model.forward(img, batch);
        RefViT ref = new RefViT(cfg, params, ACTIVE);
        assertClose("logits", backend.download(logits), ref.logits(images, batch), 1e-5);

        model.arena().zeroGrads();
        Tensor dLogits = backend.allocate(batch * cfg.numClasses());
        LossResult loss = backend.crossEntropy(logits, labels, dLogits, batch, cfg.numClasses(), smoothing,
                1f / batch, false);
        model.backward(dLogits);
        assertEquals(Ref.crossEntropy(ref.logits(images, batch), labels, batch, cfg.numClasses(), smoothing),
                loss.meanLoss(), 1e-5);

        for (Param p : model.arena().params()) {
            double[] theta = params.get(p.name());
            double[] fd = FiniteDifference.gradient(theta, v -> {
                Map<String, double[]> copy = new java.util.HashMap<>(params);
                copy.put(p.name(), v);
                return Ref.crossEntropy(new RefViT(cfg, copy, ACTIVE).logits(images, batch), labels, batch,
                        cfg.numClasses(), smoothing);
            }, 1e-5);
            assertClose("gradient of " + p.name(), backend.download(p.grad()), fd, 2e-4);
        }
        assertUntouchedBeyondRank(model);
    }

    /** Weight inheritance: rows of VT and columns of U at or beyond r get no gradient at all. */
    private static void assertUntouchedBeyondRank(VisionTransformer model) {
        for (Map.Entry<String, Integer> e : ACTIVE.entrySet()) {
            LowRankLinear l = (LowRankLinear) model.linears().get(e.getKey());
            int r = e.getValue();
            int maxRank = l.maxRank();
            float[] dvt = model.backend().download(l.vt().grad());
            for (int i = r * l.inFeatures(); i < dvt.length; i++) {
                assertEquals(0f, dvt[i], e.getKey() + ".VT grad beyond rank " + r);
            }
            float[] du = model.backend().download(l.u().grad());
            for (int o = 0; o < l.outFeatures(); o++) {
                for (int k = r; k < maxRank; k++) {
                    assertEquals(0f, du[o * maxRank + k], e.getKey() + ".U grad beyond rank " + r);
                }
            }
        }
    }

    private static double[] randoms(Random rng, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = rng.nextGaussian();
        }
        return v;
    }
}
