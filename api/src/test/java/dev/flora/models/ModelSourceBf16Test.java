package dev.flora.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.cuda.Devices;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A model opened on a bf16 backend holds its linear weights once, in bf16: its fp32 copies are
 * freed and it infers exactly as the same file loaded without the release. On a CPU without
 * AVX512-BF16 the backend is fp32 and keeps everything.
 */
class ModelSourceBf16Test {
    @Test
    void aModelOpenedForBf16InferenceHoldsItsLinearWeightsOnce() {
        try (Backend opened = Devices.open("cpu", Precision.BF16).backend();
             Backend keeping = Devices.open("cpu", Precision.BF16).backend()) {
            VisionTransformer model = ModelSource.load(ModelSource.DEFAULT, opened, OptionalInt.empty());
            Tensor qkv = model.arena().get("blocks.0.attn.qkv.weight").value();
            if (CpuBackend.bf16UnsupportedReason() != null) {
                assertFalse(model.arena().inferenceOnly());
                opened.download(qkv);
                return;
            }
            assertTrue(model.arena().inferenceOnly());
            assertThrows(IllegalStateException.class, () -> opened.download(qkv));
            VisionTransformer unreleased = ModelIO.load(ModelSource.resolve(ModelSource.DEFAULT), keeping,
                    OptionalInt.empty());
            float[] images = new float[4 * model.config().imageSize()];
            Random rng = new Random(5);
            for (int i = 0; i < images.length; i++) {
                images[i] = (float) rng.nextGaussian();
            }
            assertArrayEquals(logits(unreleased, images), logits(model, images));
        }
    }

    private static float[] logits(VisionTransformer m, float[] images) {
        Backend b = m.backend();
        Tensor t = b.allocate(images.length);
        b.upload(images, 0, t);
        return b.download(m.infer(t, images.length / m.config().imageSize()));
    }
}
