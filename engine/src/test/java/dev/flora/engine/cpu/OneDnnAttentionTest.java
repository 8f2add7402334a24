package dev.flora.engine.cpu;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.relativeError;
import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.backend.LayerNormWeights;
import dev.flora.engine.backend.LinearProduct;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.reference.Ref;
import dev.flora.engine.reference.Rounding;
import dev.flora.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Attention on the inference backends (oneDNN's batched products, q, k and v read through
 * strides) against the backend that trains (OpenBLAS per image and head): the context, at one
 * image (its query rows split in two uneven halves) and a few images (split by image); the bf16
 * backend's, whose products round q, k, v, the scores and the probabilities to bf16; and the op
 * that runs attention with its projections.
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
            // the inference backend leaves probs unwritten
            assertClose("context", got[1], toDouble(expected[1]), 1e-5);
        }
    }

    @ParameterizedTest(name = "bf16, batch {0} tokens {1} heads {2} head dim {3}")
    @CsvSource({"1, 13, 3, 8", "2, 13, 3, 8", "5, 17, 2, 16", "1, 197, 6, 64"})
    void bf16IsWithinItsRoundingOfTheTrainingBackend(int batch, int tokens, int heads, int headDim) {
        int dim = heads * headDim;
        float[] qkv = gaussian(batch * tokens * 3 * dim, 22);
        float scale = (float) (1 / Math.sqrt(headDim));
        try (CpuBackend training = new CpuBackend(); CpuBackend bf16 = CpuBackend.bf16OnAnyCpu()) {
            float[] fp32 = attention(training, qkv, batch, tokens, heads, headDim, scale)[1];
            float[][] got = attention(bf16, qkv, batch, tokens, heads, headDim, scale);
            // tight enough that scores kept in fp32 fail it
            assertClose("context", got[1], bf16Context(qkv, batch, tokens, heads, headDim, scale), 1e-3);
            // the products did round: an fp32 path would agree with the training backend to about 1e-6
            assertTrue(relativeError(got[1], toDouble(fp32)) > 1e-4);
        }
    }

    /**
     * The fused op (layer norm, qkv projection, attention, output projection and residual, the
     * normalized rows, q, k, v and the context kept in the format between them) against the same
     * backend's separate ops, which round to bf16 at the same points (the normalized rows as the
     * qkv projection converts them, qkv as attention converts it, the context as the projection
     * converts it): dense and factorized projections, with and without the norm, one image
     * (query rows split) and several (images split).
     */
    @ParameterizedTest(name = "{0}: batch {1} tokens {2} heads {3} head dim {4} qkv rank {5} proj rank {6} norm {7}")
    @CsvSource({"FP32, 1, 13, 3, 8, 0, 0, false", "FP32, 3, 17, 2, 16, 20, 9, true", "FP32, 1, 197, 6, 64, 114, 0, true",
        "BF16, 1, 13, 3, 8, 0, 0, false", "BF16, 3, 17, 2, 16, 20, 9, true", "BF16, 1, 197, 6, 64, 114, 0, true",
        "BF16, 1, 197, 6, 64, 0, 0, false", "FP32, 1, 197, 6, 64, 0, 0, true"})
    void selfAttentionAsOneOpMatchesItsSteps(Precision precision, int batch, int tokens, int heads, int headDim,
                                             int qkvRank, int projRank, boolean normed) {
        int dim = heads * headDim;
        int rows = batch * tokens;
        float scale = (float) (1 / Math.sqrt(headDim));
        try (CpuBackend d = precision == Precision.BF16 ? CpuBackend.bf16OnAnyCpu() : CpuBackend.fp32Inference();
             CpuBackend training = new CpuBackend()) {
            assertTrue(d.fusesSelfAttention() && !training.fusesSelfAttention());
            Tensor x = upload(d, gaussian(rows * dim, 31));
            Tensor residual = upload(d, gaussian(rows * dim, 32));
            LinearProduct qkv = product(d, dim, 3 * dim, qkvRank, 33);
            LinearProduct proj = product(d, dim, dim, projRank, 37);
            LayerNormWeights norm = normed
                    ? new LayerNormWeights(upload(d, gaussian(dim, 38)), upload(d, gaussian(dim, 39)), 1e-6f) : null;
            Tensor fused = d.allocate(rows * dim);
            d.selfAttentionForward(x, norm, qkv, proj, residual, fused, batch, tokens, heads, headDim, scale);

            Tensor in = x;
            if (normed) {
                in = d.allocate(rows * dim);
                d.layerNormForward(x, norm.gamma(), norm.beta(), in, d.allocate(rows), d.allocate(rows), rows, dim,
                        1e-6f);
            }
            Tensor q = d.allocate(rows * 3 * dim);
            apply(d, qkv, in, null, q, rows);
            Tensor ctx = d.allocate(rows * dim);
            d.attentionForward(q, d.allocate(batch * heads * tokens * tokens), ctx, batch, tokens, heads, headDim,
                    scale);
            Tensor steps = d.allocate(rows * dim);
            apply(d, proj, ctx, residual, steps, rows);
            assertClose(precision + " attention", d.download(fused), toDouble(d.download(steps)), 1e-6);
        }
    }

    @Test
    void aBackendThatCanTrainDoesNotFuseAttention() {
        try (CpuBackend training = new CpuBackend()) {
            Tensor t = training.allocate(48);
            LinearProduct p = new LinearProduct.Dense(t, t, 4, 12);
            assertThrows(UnsupportedOperationException.class,
                    () -> training.selfAttentionForward(t, null, p, new LinearProduct.Dense(t, t, 4, 4), null, t, 1, 1,
                            1, 4, 1f));
        }
    }

    /** A random projection: dense (rank 0) or factorized with VT [rank + 3, in] and U [out, rank + 3]. */
    private static LinearProduct product(CpuBackend d, int in, int out, int rank, int seed) {
        Tensor bias = upload(d, gaussian(out, seed));
        return rank == 0
                ? new LinearProduct.Dense(upload(d, gaussian(out * in, seed + 1)), bias, in, out)
                : new LinearProduct.LowRank(upload(d, gaussian((rank + 3) * in, seed + 2)),
                        upload(d, gaussian(out * (rank + 3), seed + 3)), bias, in, out, rank, rank + 3);
    }

    /** The projection as the backend runs a layer of its own. */
    private static void apply(CpuBackend d, LinearProduct p, Tensor x, Tensor residual, Tensor y, int rows) {
        if (p instanceof LinearProduct.Dense w) {
            d.linearForward(x, w.w(), w.bias(), residual, y, rows, w.in(), w.out());
        } else {
            LinearProduct.LowRank l = (LinearProduct.LowRank) p;
            d.lowRankForward(x, l.vt(), l.u(), l.bias(), residual, null, y, rows, l.in(), l.out(), l.rank(),
                    l.maxRank());
        }
    }

    /** The class-token tail's softmax (a few rows on their own), which the inference backends run on oneDNN too. */
    @ParameterizedTest(name = "softmax of {0} rows of {1}")
    @CsvSource({"1, 13", "6, 197", "37, 50"})
    void rowSoftmaxMatchesTheTrainingBackend(int rows, int cols) {
        float[] scores = gaussian(rows * cols, 23);
        for (int i = 0; i < scores.length; i++) {
            scores[i] *= 8; // a wide range, as a trained model's scores have
        }
        try (CpuBackend training = new CpuBackend(); CpuBackend inference = CpuBackend.fp32Inference()) {
            Tensor expected = upload(training, scores);
            training.softmaxForward(expected, rows, cols);
            Tensor got = upload(inference, scores);
            inference.softmaxForward(got, rows, cols);
            assertClose("probabilities", inference.download(got), toDouble(training.download(expected)), 1e-5);
        }
    }

    /**
     * The context in double from what the bf16 path rounds to bf16: q, k and v, the scaled
     * scores, and the probabilities (the softmax itself and both sums are exact here).
     */
    private static double[] bf16Context(float[] qkv, int batch, int tokens, int heads, int headDim, float scale) {
        float[] in = Rounding.rounded(qkv, Precision.BF16);
        int dim = heads * headDim;
        int t = tokens;
        double[] ctx = new double[batch * t * dim];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                double[] p = new double[t * t];
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < t; j++) {
                        double dot = 0;
                        for (int c = 0; c < headDim; c++) {
                            dot += (double) in[(b * t + i) * 3 * dim + h * headDim + c]
                                    * in[(b * t + j) * 3 * dim + dim + h * headDim + c];
                        }
                        p[i * t + j] = Rounding.round((float) (scale * dot), Precision.BF16);
                    }
                }
                p = Ref.softmaxRows(p, t, t);
                for (int i = 0; i < p.length; i++) {
                    p[i] = Rounding.round((float) p[i], Precision.BF16);
                }
                for (int i = 0; i < t; i++) {
                    for (int c = 0; c < headDim; c++) {
                        double acc = 0;
                        for (int j = 0; j < t; j++) {
                            acc += p[i * t + j] * in[(b * t + j) * 3 * dim + 2 * dim + h * headDim + c];
                        }
                        ctx[(b * t + i) * dim + h * headDim + c] = acc;
                    }
                }
            }
        }
        return ctx;
    }

    private static float[][] attention(CpuBackend b, float[] qkv, int batch, int tokens, int heads, int headDim,
                                       float scale) {
        Tensor probs = b.allocate(batch * heads * tokens * tokens);
        Tensor ctx = b.allocate(batch * tokens * heads * headDim);
        b.attentionForward(upload(b, qkv), probs, ctx, batch, tokens, heads, headDim, scale);
        return new float[][] {b.download(probs), b.download(ctx)};
    }
}
