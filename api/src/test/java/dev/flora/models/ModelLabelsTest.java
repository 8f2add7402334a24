package dev.flora.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.nn.VisionTransformer;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ModelLabelsTest {
    static VisionTransformer tenClasses;

    @BeforeAll
    static void load() {
        tenClasses = ModelSource.load("vit-fmnist", new CpuBackend(), OptionalInt.empty());
    }

    static ModelSource.LoadedModel with(String name, Map<String, String> meta) {
        return new ModelSource.LoadedModel(tenClasses, meta, name);
    }

    @Test
    void namesComeFromTheMetadata() {
        String json = "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\"]";
        assertEquals(List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"),
                ModelLabels.of(with("mine.safetensors", Map.of(ModelLabels.CLASS_NAMES, json))));
    }

    @Test
    void bundledModelsAreFashionMnistAndOthersAreIndices() {
        for (String name : ModelSource.BUNDLED) {
            assertEquals(ModelLabels.FASHION_MNIST, ModelLabels.of(ModelSource.open(name, new CpuBackend(),
                    OptionalInt.empty())), name);
        }
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
                ModelLabels.of(with("mine.safetensors", Map.of())));
    }

    @Test
    void aBadValueNamesTheModelAndTheKey() {
        for (String bad : new String[] {"cat,dog", "{\"0\":\"cat\"}", "[\"cat\",\"dog\"]",
            "[1,2,3,4,5,6,7,8,9,10]"}) {
            FormatException e = assertThrows(FormatException.class,
                    () -> ModelLabels.of(with("mine.safetensors", Map.of(ModelLabels.CLASS_NAMES, bad))), bad);
            assertTrue(e.getMessage().startsWith("mine.safetensors: __metadata__ class_names"), e.getMessage());
        }
    }
}
