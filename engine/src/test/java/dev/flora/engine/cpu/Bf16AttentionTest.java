package dev.flora.engine.cpu;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.Rounding.rounded;
import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.flora.engine.backend.Precision;
import dev.flora.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The bf16 backend's attention (oneDNN's batched matmul) against fp32 attention on q, k, v rounded
 * to bf16, and its context against the product of its own probabilities and v, both rounded to
 * bf16 as the bf16 path rounds them: what is left is the order of fp32 accumulation, so both outputs agree within 1e-5 of
 * their largest value. This pins the head-major reorder of qkv, the transposed keys, the scale
 * post-op and the strided write of the context into [tokens, heads·headDim]. It runs on every
 * CPU: where AVX512-BF16 is missing oneDNN converts in software.
 */
class Bf16AttentionTest {
    private static final CpuBackend FP32 = new CpuBackend();
    private static final CpuBackend BF16 = CpuBackend.bf16OnAnyCpu();

    @AfterAll
    static void close() {
        BF16.close();
    }

    @ParameterizedTest(name = "batch {0} tokens {1} heads {2} headDim {3}")
    @CsvSource({"2, 13, 3, 8", "3, 50, 4, 32", "1, 197, 6, 64", "2, 197, 3, 64"})
    void matchesFp32OnRoundedOperands(int batch, int tokens, int heads, int headDim) {
        int dim = heads * headDim;
        float scale = (float) (1 / Math.sqrt(headDim));
        float[] qkv = gaussian(batch * tokens * 3 * dim, tokens + heads);
        Tensor probs = BF16.allocate(batch * heads * tokens * tokens);
        Tensor ctx = BF16.allocate(batch * tokens * dim);
        BF16.attentionForward(upload(BF16, qkv), probs, ctx, batch, tokens, heads, headDim, scale);

        float[] q = rounded(qkv, Precision.BF16);
        Tensor expectedProbs = FP32.allocate(batch * heads * tokens * tokens);
        FP32.attentionForward(upload(FP32, q), expectedProbs, FP32.allocate(batch * tokens * dim), batch, tokens,
                heads, headDim, scale);
        float[] got = BF16.download(probs);
        assertClose("probabilities", got, toDouble(FP32.download(expectedProbs)), 1e-5);

        // the context of the probabilities the bf16 path computed: fp32's differ from them in the
        // last bits, which flips the odd one to the next bf16 value
        float[] pb = rounded(got, Precision.BF16);
        double[] expected = new double[batch * tokens * dim];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < tokens; i++) {
                    for (int j = 0; j < headDim; j++) {
                        double sum = 0;
                        for (int k = 0; k < tokens; k++) {
                            long pk = ((long) (b * heads + h) * tokens + i) * tokens + k;
                            sum += pb[(int) pk] * q[(b * tokens + k) * 3 * dim + 2 * dim + h * headDim + j];
                        }
                        expected[(b * tokens + i) * dim + h * headDim + j] = sum;
                    }
                }
            }
        }
        float[] context = BF16.download(ctx);
        assertClose("context", context, expected, 1e-5);
        Tensor exact = FP32.allocate(context.length);
        FP32.attentionForward(upload(FP32, qkv), FP32.allocate(batch * heads * tokens * tokens), exact, batch,
                tokens, heads, headDim, scale);
        float[] fp32Ctx = FP32.download(exact);
        assertFalse(Arrays.equals(context, fp32Ctx), "the bf16 context equals fp32's: bf16 did not run");
    }

    @ParameterizedTest(name = "batch {0}")
    @CsvSource({"1", "16"})
    void runsOnOneDnnsOptimisedKernelsAtDeitShapes(int batch) {
        // without AVX512-BF16 oneDNN has only its reference kernels for bf16
        assumeTrue(CpuBackend.bf16UnsupportedReason() == null, "this CPU lacks AVX512-BF16");
        try (Bf16Attention attention = new Bf16Attention()) {
            List<String> impls = attention.implementations(batch, 197, 6, 64, 0.125f);
            assertTrue(impls.stream().noneMatch(i -> i.startsWith("ref")), "a reference kernel: " + impls);
        }
    }
}
