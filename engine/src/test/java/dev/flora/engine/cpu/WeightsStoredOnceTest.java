package dev.flora.engine.cpu;

import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.io.ModelIO;
import dev.flora.engine.nn.Param;
import dev.flora.engine.nn.ParameterArena;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bf16 inference holds each linear layer's weights once: after {@link
 * VisionTransformer#storeWeightsOnce} the model's fp32 copies of the converted weights are
 * freed, the model gives the same logits as one that kept them (whole batches, split batches and
 * replicas), keeps every other parameter's values, and refuses what needs the freed values.
 */
class WeightsStoredOnceTest {
    private static final ViTConfig CONFIG = new ViTConfig(8, 4, 2, 32, 2, 2, 2.0, 3, new double[] {0.5, 0.5},
            new double[] {0.25, 0.25});
    private static final String LOW_RANK = "blocks.0.mlp.fc1";
    private static final int RANK = 8;
    /** Split into lanes on the CPU backend (32 images and more). */
    private static final int SPLIT_BATCH = 40;
    private static final CpuBackend BF16 = CpuBackend.bf16OnAnyCpu();
    private static final CpuBackend KEEPING = CpuBackend.bf16OnAnyCpu();

    @AfterAll
    static void close() {
        BF16.close();
        KEEPING.close();
    }

    private static VisionTransformer model(CpuBackend backend) {
        VisionTransformer m = VisionTransformer.withLowRank(backend, CONFIG, Map.of(LOW_RANK, 2 * RANK));
        ViTInitializer.initialize(m, 7);
        m.setRank(LOW_RANK, RANK);
        return m;
    }

    private static float[] logits(VisionTransformer m, int batch) {
        return m.backend().download(m.infer(upload(m.backend(), gaussian(batch * CONFIG.imageSize(), 3)), batch));
    }

    /** The weights the bf16 products read: every block linear's, the head's and the patch embedding's. */
    private static boolean convertedByBf16(Param p) {
        return p.name().matches("blocks\\.\\d+\\.(attn\\.(qkv|proj)|mlp\\.fc[12])\\.((VT|U)\\.)?weight")
                || p.name().equals("head.weight") || p.name().equals("patch_embed.proj.weight");
    }

    @Test
    void theConvertedWeightsAreFreedAndTheLogitsStayTheSame() {
        VisionTransformer stored = model(BF16);
        VisionTransformer kept = model(KEEPING);
        long expectedFreed = 0;
        for (Param p : stored.arena().params()) {
            expectedFreed += convertedByBf16(p) ? (p.numel() + ParameterArena.ALIGN - 1) / ParameterArena.ALIGN
                    * ParameterArena.ALIGN : 0;
        }
        assertTrue(expectedFreed > 0, "the test model has no linear weights");

        assertEquals(expectedFreed, stored.storeWeightsOnce());

        for (int batch : new int[] {1, 5, SPLIT_BATCH}) {
            assertArrayEquals(logits(kept, batch), logits(stored, batch), "batch " + batch);
        }
        assertArrayEquals(logits(kept, 5), logits(stored.replica(), 5), "a replica made after the release");
        for (Param p : stored.arena().params()) {
            Param same = kept.arena().get(p.name());
            if (convertedByBf16(p)) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> BF16.download(p.value()),
                        p.name());
                assertTrue(e.getMessage().contains("stored once"), e.getMessage());
            } else {
                assertArrayEquals(KEEPING.download(same.value()), BF16.download(p.value()), p.name());
            }
        }
    }

    @Test
    void whatNeedsTheFreedValuesIsRefused(@TempDir Path dir) {
        VisionTransformer stored = model(BF16);
        stored.storeWeightsOnce();
        assertThrows(IllegalStateException.class, () -> stored.arena().grads());
        assertThrows(IllegalStateException.class, () -> stored.arena().values());
        assertThrows(IllegalStateException.class, () -> ModelIO.save(stored, dir.resolve("m.safetensors"), Map.of()));
        stored.setRank(LOW_RANK, RANK / 2); // factors of this rank were never converted
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> logits(stored, 2));
        assertTrue(e.getMessage().contains("released"), e.getMessage());
        assertEquals(0, stored.storeWeightsOnce(), "a second call has nothing left to free");
    }

    @Test
    void aModelWhoseValuesAreSharedAlreadyIsRefused() {
        VisionTransformer m = model(BF16);
        m.replica();
        assertThrows(IllegalStateException.class, m::storeWeightsOnce);
    }

    @Test
    void anFp32ModelKeepsEverything() {
        try (CpuBackend fp32 = new CpuBackend()) {
            VisionTransformer m = model(fp32);
            float[] before = logits(m, 3);
            assertEquals(0, m.storeWeightsOnce());
            assertArrayEquals(before, logits(m, 3));
            assertEquals(m.arena().size(), m.arena().grads().numel(), "an fp32 model still trains");
        }
    }
}
