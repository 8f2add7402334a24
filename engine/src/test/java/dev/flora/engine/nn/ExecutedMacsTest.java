package dev.flora.engine.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flora.engine.cpu.CpuBackend;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link VisionTransformer#executedMacsPerImage} against hand counts of what the forward pass runs. */
class ExecutedMacsTest {
    private static final int T = 50;

    @Test
    void denseVitFmnistHandCount() {
        long fullBlock = T * 128L * 384 + T * 128L * 128 + 2L * T * 128 * 512 + 2L * T * T * 128;
        // the last block: qkv on every token, one query row, proj and MLP on the class token
        long lastBlock = T * 128L * 384 + 2L * T * 128 + 128L * 128 + 2L * 128 * 512;
        long patch = 49L * 16 * 128;
        long head = 128L * 10;
        VisionTransformer m = new VisionTransformer(new CpuBackend(), ViTConfig.vitFmnist());
        assertEquals(patch + 5 * fullBlock + lastBlock + head, m.executedMacsPerImage());
        assertEquals(55_071_488L, m.executedMacsPerImage());
        assertEquals(62_924_032L, m.macsPerImage(), "the field's count runs every block on every token");
    }

    @Test
    void aCutInTheLastBlocksMlpSavesOneRowNotATokenPerRow() {
        CpuBackend backend = new CpuBackend();
        VisionTransformer dense = new VisionTransformer(backend, ViTConfig.vitFmnist());
        long perRowSaving = 128L * 512 - 32L * (128 + 512);
        VisionTransformer first = new VisionTransformer(backend, ViTConfig.vitFmnist(),
                Map.of("blocks.0.mlp.fc1", new LinearSpec.LowRank(32)));
        assertEquals(T * perRowSaving, dense.macsPerImage() - first.macsPerImage());
        assertEquals(T * perRowSaving, dense.executedMacsPerImage() - first.executedMacsPerImage());
        VisionTransformer last = new VisionTransformer(backend, ViTConfig.vitFmnist(),
                Map.of("blocks.5.mlp.fc1", new LinearSpec.LowRank(32)));
        assertEquals(T * perRowSaving, dense.macsPerImage() - last.macsPerImage());
        assertEquals(perRowSaving, dense.executedMacsPerImage() - last.executedMacsPerImage());
        VisionTransformer lastQkv = new VisionTransformer(backend, ViTConfig.vitFmnist(),
                Map.of("blocks.5.attn.qkv", new LinearSpec.LowRank(32)));
        assertEquals(dense.macsPerImage() - lastQkv.macsPerImage(),
                dense.executedMacsPerImage() - lastQkv.executedMacsPerImage(), "qkv still runs on every token");
    }
}
