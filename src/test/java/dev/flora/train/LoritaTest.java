package dev.flora.train;

import static dev.flora.train.TrainerTest.map;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.config.Configs;
import dev.flora.config.TrainConfig;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.io.SafeTensors;
import dev.flora.engine.nn.FactoredLinear;
import dev.flora.engine.nn.Linear;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lorita: N} pre-training: factored while training, resumable exactly, saved as a dense model. */
class LoritaTest {
    @TempDir
    Path dir;

    private static TrainConfig lorita(int n, int epochs) {
        return Configs.merge(TrainConfig.class, TrainerTest.tiny(epochs), "test", Configs.layer(map("lorita", n)));
    }

    private static Trainer trainer(TrainConfig c, Path runDir) {
        return new Trainer(c, runDir, new CpuBackend(), new PrintStream(new ByteArrayOutputStream()));
    }

    @Test
    void resumesExactlyAndSavesAnOrdinaryDenseModel() {
        Trainer.Summary a = trainer(lorita(2, 2), dir.resolve("straight")).run(false);
        Path split = dir.resolve("split");
        trainer(lorita(2, 2), split).run(false, 1);
        SafeTensors checkpoint = SafeTensors.open(split.resolve(Trainer.CHECKPOINT));
        assertTrue(checkpoint.contains(FactoredLinear.factorName("blocks.0.mlp.fc2", 1)),
                "the training checkpoint keeps the factors");
        assertTrue(checkpoint.entries().keySet().stream().anyMatch(k -> k.startsWith(ModelIO.OPTIMIZER_PREFIX)));
        Trainer.Summary b = trainer(Trainer.savedConfig(split), split).run(true);
        SafeTensors fa = SafeTensors.open(a.model());
        SafeTensors fb = SafeTensors.open(b.model());
        assertEquals(fa.entries().keySet(), fb.entries().keySet());
        for (String name : fa.entries().keySet()) {
            assertArrayEquals(fa.read(name), fb.read(name), name + " differs after resume");
        }
        assertEquals("2", fa.metadata().get(Lorita.METADATA_KEY));
        VisionTransformer loaded = ModelIO.load(a.model(), new CpuBackend(), OptionalInt.empty());
        assertTrue(loaded.linears().values().stream().allMatch(l -> l instanceof Linear), "saved as a dense ViT");
        assertTrue(a.valTop1() > 0.2, "learns: " + a.valTop1());
    }

    @Test
    void mergedDenseModelComputesTheSameLogits() {
        CpuBackend backend = new CpuBackend();
        TrainConfig c = lorita(3, 1);
        VisionTransformer factored = new VisionTransformer(backend, c.model(), Lorita.specs(c.model(), 3));
        ViTInitializer.initialize(factored, 3);
        VisionTransformer dense = Lorita.merged(factored);
        int batch = 2;
        int size = c.model().imgSize();
        float[] img = new float[batch * c.model().inChans() * size * size];
        Random rng = new Random(1);
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) rng.nextGaussian();
        }
        Tensor x = backend.allocate(img.length);
        backend.upload(img, 0, x);
        float[] want = backend.download(factored.forward(x, batch)).clone();
        float[] got = backend.download(dense.forward(x, batch));
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-4, "logit " + i);
        }
    }

    @Test
    void refusesOtherFactorCounts() {
        Exception e = assertThrows(IllegalArgumentException.class, () -> lorita(4, 1));
        assertTrue(e.getMessage().contains("lorita must be 0 (off), 2 or 3, got 4"), e.getMessage());
    }
}
