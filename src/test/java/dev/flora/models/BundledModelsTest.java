package dev.flora.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.cli.CliRunner;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The models that ship in the jar still evaluate to the figures docs/results.md gives for them, on
 * the bundled test subset (2000 images of the Fashion-MNIST test set): a change to the engine
 * that shifts their accuracy, or a model file that no longer matches its name, fails here.
 */
class BundledModelsTest {
    /** Top-1 on fmnist-subset (2000 test images) recorded when each model was bundled. */
    private static final Map<String, Double> SUBSET_TOP1 = Map.of("vit-fmnist", 90.40, "vit-fmnist-flora", 89.85,
            "vit-fmnist-uniform", 89.90);
    private static final long DENSE_FLOPS = 62_924_032L;

    private static JsonNode eval(String model) throws Exception {
        CliRunner.Run r = CliRunner.run("eval", "--model", model, "--data", "fmnist-subset", "--json");
        assertEquals(0, r.code(), r.err());
        return new ObjectMapper().readTree(r.out().strip());
    }

    @ParameterizedTest
    @ValueSource(strings = {"vit-fmnist", "vit-fmnist-flora", "vit-fmnist-uniform"})
    void bundledModelKeepsItsRecordedAccuracy(String model) throws Exception {
        JsonNode got = eval(model);
        assertEquals(2000, got.get("count").asInt());
        // exact up to summation order across thread counts: two images either way
        assertEquals(SUBSET_TOP1.get(model), got.get("top1").asDouble(), 0.1, model);
        if (!model.equals("vit-fmnist")) {
            assertTrue(got.get("flops").asLong() <= DENSE_FLOPS / 2, model + " has at most half the dense FLOPs");
        } else {
            assertEquals(DENSE_FLOPS, got.get("flops").asLong());
        }
    }

    @org.junit.jupiter.api.Test
    void everyBundledNameIsTested() {
        assertEquals(ModelSource.BUNDLED.size(), SUBSET_TOP1.size());
    }
}
