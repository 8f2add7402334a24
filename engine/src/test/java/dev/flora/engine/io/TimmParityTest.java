package dev.flora.engine.io;

import static dev.flora.engine.reference.Compare.elementRelativeError;
import static dev.flora.engine.reference.Compare.maxAbs;
import static dev.flora.engine.reference.Compare.relativeError;
import static dev.flora.engine.reference.Compare.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * timm checkpoints as timm publishes them ({@code __metadata__} {"format": "pt"} only, so every
 * hyper-parameter comes from the shapes) against PyTorch's logits: the committed fixtures that
 * {@code tools/fixtures/make_golden.py timm_parity} writes, and, when the system property
 * {@code flora.parity.dir} names a directory that {@code tools/fixtures/deit_parity.py} wrote,
 * that one (the full DeiT-Tiny of {@code tools/parity/deit_tiny.sh}). Each directory holds
 * {@code model.safetensors} and {@code io.safetensors} (input.images, output.logits from
 * PyTorch's float32 forward, output.logits64 from its float64 one).
 *
 * <p>The gate, for {@link VisionTransformer#forward} and {@link VisionTransformer#infer} alike:
 * max|Δ| / max|logit| and the per-element |Δ| / |logit| over the logits of at least a tenth of
 * the largest magnitude both within 1e-4 of PyTorch's float32 logits.
 */
class TimmParityTest {
    static final double TOLERANCE = 1e-4;
    /** The per-element figure covers logits at least this fraction of the largest magnitude. */
    static final double NOT_TINY = 0.1;

    @TempDir
    Path dir;

    private final Backend backend = backend();

    protected Backend backend() {
        return new CpuBackend();
    }

    private static Path golden(String name) throws URISyntaxException {
        return Path.of(TimmParityTest.class.getResource("/golden/" + name + "/model.safetensors").toURI())
                .getParent();
    }

    @Test
    void deitTinyShapesAt224LoadFromShapesAloneAndMatchPyTorch() throws Exception {
        VisionTransformer m = checkParity(golden("timm_deit_tiny_d2"), OptionalInt.empty());
        ViTConfig tiny = ViTConfig.deitTiny();
        assertEquals(new ViTConfig(224, 16, 3, 192, 2, 3, 4.0, 10, tiny.inputMean(), tiny.inputStd()), m.config(),
                "heads from the standard width 192, the rest from the shapes");
        assertEquals(197, m.config().tokens());
    }

    @Test
    void distilledDeitMatchesPyTorchAndSavesUnderTimmsNames() throws Exception {
        Path source = golden("timm_deit_distilled_small").resolve("model.safetensors");
        VisionTransformer m = checkParity(source.getParent(), OptionalInt.of(3));
        assertTrue(m.config().distilled());
        assertEquals(16 + 2, m.config().tokens());

        Path saved = dir.resolve("saved.safetensors");
        ModelIO.save(m, saved, Map.of());
        assertEquals(SafeTensors.open(source).entries().keySet(), SafeTensors.open(saved).entries().keySet(),
                "the same tensor names as timm's");
        VisionTransformer back = ModelIO.load(saved, backend, OptionalInt.empty());
        assertEquals(m.config(), back.config());
        Tensor x = images(SafeTensors.open(source.resolveSibling("io.safetensors")));
        int batch = 3;
        assertArrayEquals(backend.download(m.forward(x, batch)), backend.download(back.forward(x, batch)));
    }

    @Test
    @EnabledIfSystemProperty(named = "flora.parity.dir", matches = ".+")
    void checkpointInTheParityDirectoryMatchesPyTorch() {
        checkParity(Path.of(System.getProperty("flora.parity.dir")), OptionalInt.empty());
    }

    /** Loads dir's model, runs its images, prints the figures and asserts the gate. */
    private VisionTransformer checkParity(Path dir, OptionalInt numHeads) {
        Path model = dir.resolve("model.safetensors");
        assertEquals(Map.of("format", "pt"), SafeTensors.open(model).metadata(), "published checkpoints' metadata");
        SafeTensors io = SafeTensors.open(dir.resolve("io.safetensors"));
        VisionTransformer vit = ModelIO.load(model, backend, numHeads);
        int batch = io.entry("input.images").shape()[0];
        Tensor x = images(io);
        double[] expected = toDouble(io.read("output.logits"));
        double[] exact = toDouble(io.read("output.logits64"));
        float[] floatRef = io.read("output.logits");
        for (boolean inference : new boolean[] {false, true}) {
            float[] got = backend.download(inference ? vit.infer(x, batch) : vit.forward(x, batch));
            double rel = relativeError(got, expected);
            double elem = elementRelativeError(got, expected, NOT_TINY);
            String line = String.format(Locale.ROOT, "parity %s (%s, %s, %s, batch %d): vs PyTorch float32 "
                    + "max|d|/max|logit| %.2e, per element (|logit| >= %.1f max) %.2e; vs PyTorch float64 %.2e "
                    + "(PyTorch float32 vs float64 %.2e); max|logit| %.4f",
                    dir.getFileName(), vit.config(), backend.name(), inference ? "infer" : "forward", batch, rel,
                    NOT_TINY, elem, relativeError(got, exact), relativeError(floatRef, exact),
                    maxAbs(expected));
            System.out.println(line);
            assertTrue(rel <= TOLERANCE && elem <= TOLERANCE, line + " exceeds " + TOLERANCE);
        }
        return vit;
    }

    private Tensor images(SafeTensors io) {
        float[] v = io.read("input.images");
        Tensor x = backend.allocate(v.length);
        backend.upload(v, 0, x);
        return x;
    }
}
