package dev.flora.engine.cpu;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;

import dev.flora.engine.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Attention on the inference backends (oneDNN's batched products, q, k and v read through
 * strides) against the backend that trains (OpenBLAS per image and head): the probabilities and
 * the context, at one image (its heads split in two uneven halves), a few images (split by
 * image).
 */
class OneDnnAttentionTest {
    @ParameterizedTest(name = "batch {0} tokens {1} heads {2} head dim {3}")
    @CsvSource({"1, 13, 3, 8", "2, 13, 3, 8", "5, 17, 2, 16", "1, 197, 6, 64"})
    void matchesTheTrainingBackend(int batch, int tokens, int heads, int headDim) {
        int dim = heads * headDim;
        float[] qkv = gaussian(batch * tokens * 3 * dim, 21);
        float scale = (float) (1 / Math.sqrt(headDim));
        try (CpuBackend training = new CpuBackend(); CpuBackend inference = CpuBackend.fp32Inference()) {
            float[][] expected = attention(training, qkv, batch, tokens, heads, headDim, scale);
            float[][] got = attention(inference, qkv, batch, tokens, heads, headDim, scale);
            assertClose("probabilities", got[0], toDouble(expected[0]), 1e-5);
            assertClose("context", got[1], toDouble(expected[1]), 1e-5);
        }
    }

    private static float[][] attention(CpuBackend b, float[] qkv, int batch, int tokens, int heads, int headDim,
                                       float scale) {
        Tensor probs = b.allocate(batch * heads * tokens * tokens);
        Tensor ctx = b.allocate(batch * tokens * heads * headDim);
        b.attentionForward(upload(b, qkv), probs, ctx, batch, tokens, heads, headDim, scale);
        return new float[][] {b.download(probs), b.download(ctx)};
    }
}
