package dev.flora.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.io.SafeTensors;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The DeiT presets: each opens as its architecture with timm's DeiT data config and runs a
 * forward pass on a 224 image (DeiT-B once, about 17.6 G multiply-adds); the same seed gives the
 * same weights, {@code resolve} writes the same model to a file, and an unknown name is
 * rejected with the list of names that work.
 */
class ModelSourcePresetTest {
    private final Backend backend = new CpuBackend();

    @ParameterizedTest
    @ValueSource(strings = {"deit-tiny", "deit-small", "deit-base"})
    void aPresetOpensAsItsArchitectureAndRunsAForward(String name) {
        ModelSource.LoadedModel m = ModelSource.open(name, backend, OptionalInt.empty());
        ViTConfig expected = switch (name) {
            case "deit-tiny" -> ViTConfig.deitTiny();
            case "deit-small" -> ViTConfig.deitSmall();
            default -> ViTConfig.deitBase();
        };
        assertEquals(expected, m.model().config());
        assertEquals(name, m.name());
        assertEquals("0.875", m.metadata().get("crop_pct"));
        assertEquals("bicubic", m.metadata().get("interpolation"));
        assertEquals(Integer.toString(expected.numHeads()), m.metadata().get("num_heads"));

        float[] logits = backend.download(m.model().infer(randomImage(expected), 1));
        assertEquals(1000, logits.length);
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float v : logits) {
            assertTrue(Float.isFinite(v), name + " logit " + v);
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(max > min, name + ": all logits equal");
    }

    @Test
    void theSameSeedGivesTheSameWeightsAndResolveWritesThatModel() {
        VisionTransformer a = ModelSource.load("deit-tiny", backend, OptionalInt.empty());
        VisionTransformer b = ModelSource.load("deit-tiny", backend, OptionalInt.empty());
        float[] weights = backend.download(a.arena().values());
        assertArrayEquals(weights, backend.download(b.arena().values()));

        Path file = ModelSource.resolve("deit-tiny");
        assertEquals(ModelSource.open("deit-tiny", backend, OptionalInt.empty()).metadata(),
                SafeTensors.open(file).metadata());
        VisionTransformer fromFile = ModelIO.load(file, backend, OptionalInt.empty());
        assertEquals(a.config(), fromFile.config());
        assertArrayEquals(weights, backend.download(fromFile.arena().values()));
    }

    @Test
    void unknownNamesAreRejectedWithTheNamesThatWork() {
        FormatException e = assertThrows(FormatException.class,
                () -> ModelSource.open("deit-huge", backend, OptionalInt.empty()));
        assertTrue(e.getMessage().contains("deit-huge"), e.getMessage());
        for (String name : List.of("vit-fmnist", "deit-tiny", "deit-small", "deit-base")) {
            assertTrue(e.getMessage().contains(name), e.getMessage());
        }
        assertEquals(List.of("deit-tiny", "deit-small", "deit-base"), ModelSource.PRESET_NAMES);
    }

    @Test
    void aHeadsFlagThatContradictsThePresetFails() {
        assertEquals(3, ModelSource.load("deit-tiny", backend, OptionalInt.of(3)).config().numHeads());
        FormatException e = assertThrows(FormatException.class,
                () -> ModelSource.load("deit-tiny", backend, OptionalInt.of(4)));
        assertTrue(e.getMessage().contains("--num-heads 4"), e.getMessage());
    }

    private Tensor randomImage(ViTConfig c) {
        float[] v = new float[c.imageSize()];
        Random r = new Random(1);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        Tensor x = backend.allocate(v.length);
        backend.upload(v, 0, x);
        return x;
    }
}
