package dev.flora.engine.cpu;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A whole ViT, dense and with factorized layers (fc1 among them, whose GELU the inference
 * backend applies as the product is written), gives the same logits on the fp32 inference
 * backend (oneDNN's products) as on the backend that trains (OpenBLAS and a GELU pass): at batch
 * 1 (products in row halves), and split into lanes.
 */
class InferenceBackendsAgreeTest {
    private static final ViTConfig CONFIG = new ViTConfig(8, 4, 2, 32, 2, 2, 2.0, 3, new double[] {0.5, 0.5},
            new double[] {0.25, 0.25});
    /** Split into lanes on the CPU backend (32 images and more). */
    private static final int SPLIT_BATCH = 40;

    private static float[] logits(Backend backend, boolean lowRank, int batch) {
        return logits(model(backend, lowRank), batch);
    }

    private static float[] logits(VisionTransformer m, int batch) {
        Backend backend = m.backend();
        return backend.download(m.infer(upload(backend, gaussian(batch * CONFIG.imageSize(), 6)), batch));
    }

    private static VisionTransformer model(Backend backend, boolean lowRank) {
        VisionTransformer m = lowRank
                ? VisionTransformer.withLowRank(backend, CONFIG,
                        Map.of("blocks.0.mlp.fc1", 16, "blocks.1.attn.qkv", 16))
                : new VisionTransformer(backend, CONFIG);
        ViTInitializer.initialize(m, 5);
        if (lowRank) {
            m.setRank("blocks.0.mlp.fc1", 9);
            m.setRank("blocks.1.attn.qkv", 16);
        }
        return m;
    }

    @Test
    void fp32InferenceGivesTheTrainingBackendsLogits() {
        try (CpuBackend training = new CpuBackend(); CpuBackend inference = CpuBackend.fp32Inference()) {
            for (boolean lowRank : new boolean[] {false, true}) {
                for (int batch : new int[] {1, 3, SPLIT_BATCH}) {
                    assertClose("low-rank " + lowRank + ", batch " + batch, logits(inference, lowRank, batch),
                            toDouble(logits(training, lowRank, batch)), 1e-5);
                }
            }
        }
    }

    /**
     * With the weights stored once (each weight's fp32 pages returned as soon as oneDNN copied it,
     * then the values freed), the logits stay the training backend's.
     */
    @Test
    void weightsStoredOnceKeepTheLogits() {
        try (CpuBackend training = new CpuBackend(); CpuBackend inference = CpuBackend.fp32Inference()) {
            for (boolean lowRank : new boolean[] {false, true}) {
                VisionTransformer m = model(inference, lowRank);
                assertTrue(m.storeWeightsOnce() > 0);
                for (int batch : new int[] {1, SPLIT_BATCH}) {
                    assertClose("stored once, low-rank " + lowRank + ", batch " + batch, logits(m, batch),
                            toDouble(logits(training, lowRank, batch)), 1e-5);
                }
            }
        }
    }
}
