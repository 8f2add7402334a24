package dev.flora.supernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.cli.CliRunner;
import dev.flora.data.BatchLoader;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import dev.flora.models.ModelInput;
import dev.flora.models.ModelPreprocessing;
import dev.flora.models.ModelSource;
import dev.flora.space.Candidate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code supernet.init: activation-aware} through {@code flora supernet}: with a learning rate
 * too small to move the weights, the supernet's smallest subnet reproduces the dense model's
 * logits on the calibration images more closely than the plain SVD's does, and the run records
 * the init in its config.
 */
class SupernetInitTest {
    private static final int IMAGES = 64;
    private static final Backend BACKEND = new CpuBackend();

    @TempDir
    Path dir;

    @Test
    void activationAwareFactorsStartTheSmallestSubnetNearerTheDenseOutputs() throws Exception {
        Path backbone = Path.of(getClass().getResource("/golden/timm_vit_tiny_fmnist.safetensors").toURI());
        ModelSource.LoadedModel loaded = ModelSource.open(backbone.toString(), BACKEND, OptionalInt.empty());
        VisionTransformer dense = loaded.model();
        Tensor x = calibrationImages(dense, ModelInput.of(loaded, ModelPreprocessing.Overrides.none(), s -> { }));
        float[] reference = BACKEND.download(dense.forward(x, IMAGES)).clone();

        double svd = smallestSubnetError(train("svd"), x, reference);
        double aware = smallestSubnetError(train("activation-aware"), x, reference);
        assertTrue(aware < 0.8 * svd, String.format(Locale.ROOT,
                "mean squared logit error of the smallest subnet: activation-aware %.4g, svd %.4g", aware, svd));
        assertTrue(Files.readString(dir.resolve("activation-aware").resolve(SupernetTrainer.CONFIG))
                .contains("init: activation-aware"));
    }

    /** A one-epoch run whose learning rate leaves the initial factors where they were. */
    private Path train(String init) throws Exception {
        Path backbone = Path.of(getClass().getResource("/golden/timm_vit_tiny_fmnist.safetensors").toURI());
        Path out = dir.resolve(init);
        CliRunner.Run r = CliRunner.run("supernet", "--model", backbone.toString(), "--data", "fmnist-subset",
                "--out", out.toString(), "--epochs", "1", "--train-limit", "" + IMAGES, "--batch-size", "" + IMAGES,
                "--lr", "1e-12", "--min-lr", "0", "--init", init, "--calibration-images", "" + IMAGES);
        assertEquals(0, r.code(), r.err() + r.out());
        assertEquals(init.equals("activation-aware"), r.out().contains("activation-aware initialization: layer "
                + "inputs of " + IMAGES + " training images"), r.out());
        return out.resolve(SupernetTrainer.SUPERNET);
    }

    /** The first {@link #IMAGES} training images: the ones the activation-aware run calibrates on. */
    private static Tensor calibrationImages(VisionTransformer dense, ModelInput input) {
        ImageSource images = Datasets.first(Datasets.trainPart(Datasets.load(Datasets.BUNDLED_FMNIST).trainFile()), IMAGES);
        BatchLoader loader = BatchLoader.forEvaluation(images, input.preprocessing(), IMAGES);
        float[] host = new float[IMAGES * loader.imageFloats()];
        int n = loader.epoch(0).fill(0, host, new int[IMAGES]);
        assertEquals(IMAGES, n);
        Tensor x = BACKEND.allocate(host.length);
        BACKEND.upload(host, 0, x);
        return x;
    }

    private static double smallestSubnetError(Path file, Tensor x, float[] reference) {
        Supernet s = Supernet.load(file, BACKEND);
        s.apply(Candidate.uniform(s.space().depth(), s.space().targets().size(), 0));
        float[] got = BACKEND.download(s.model().forward(x, IMAGES));
        double sum = 0;
        for (int i = 0; i < got.length; i++) {
            sum += (got[i] - reference[i]) * (double) (got[i] - reference[i]);
        }
        return sum / got.length;
    }
}
