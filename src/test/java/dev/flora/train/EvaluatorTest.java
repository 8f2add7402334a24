package dev.flora.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.data.Split;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.models.ModelInput;
import dev.flora.models.ModelPreprocessing;
import dev.flora.models.ModelSource;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class EvaluatorTest {
    @Test
    void theOutcomesPerImageAddUpToTheTop1AndLineUpAcrossAShortLastBatch() throws Exception {
        Path file = Path.of(EvaluatorTest.class.getResource("/golden/timm_vit_tiny_fmnist.safetensors").toURI());
        try (CpuBackend cpu = new CpuBackend()) {
            ModelSource.LoadedModel loaded = ModelSource.open(file.toString(), cpu, OptionalInt.empty());
            ModelInput input = ModelInput.of(loaded, ModelPreprocessing.Overrides.none(), s -> { });
            ImageSource val = Datasets.first(Datasets.load("fmnist-subset", Split.VAL), 70);
            // batch 32 leaves a last batch of 6
            Evaluator.Outcomes o = Evaluator.outcomes(loaded.model(), input, val, 32);
            int right = 0;
            for (boolean c : o.correct()) {
                right += c ? 1 : 0;
            }
            assertEquals(70, o.correct().length);
            assertEquals(o.result().top1() * 70, right, 1e-9);
            // image by image the same as scoring each image alone
            for (int i : new int[] {0, 33, 69}) {
                Evaluator.Outcomes one = Evaluator.outcomes(loaded.model(), input, val.subset("one", new int[] {i}), 1);
                assertEquals(one.correct()[0], o.correct()[i], "image " + i);
            }
        }
    }
}
