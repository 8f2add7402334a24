package dev.flora.engine.cuda;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.nn.LowRankLinear;
import dev.flora.engine.nn.ModelTestSupport;
import dev.flora.engine.nn.Param;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.optim.AdamW;
import dev.flora.engine.tensor.Tensor;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Two whole training steps (forward, backward, AdamW over the subnet's slices) of a ViT with
 * factorized modules at r &lt; R, on the CPU and on the emulated CUDA device from the same start:
 * every parameter agrees within 1e-5 of its scale afterwards.
 */
class TrainingStepTest {
    private static final Map<String, Integer> MAX = Map.of("blocks.0.attn.qkv", 8, "blocks.1.mlp.fc1", 8);

    private static float[] train(Backend backend) {
        VisionTransformer m = VisionTransformer.withLowRank(backend, ModelTestSupport.tinyConfig(), MAX);
        ModelTestSupport.randomize(m, new Random(3), 0.4);
        ((LowRankLinear) m.linears().get("blocks.0.attn.qkv")).setRank(5);
        ((LowRankLinear) m.linears().get("blocks.1.mlp.fc1")).setRank(3);
        int batch = 4;
        float[] img = new float[batch * m.config().imageSize()];
        Random r = new Random(9);
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) r.nextGaussian();
        }
        Tensor x = backend.allocate(img.length);
        backend.upload(img, 0, x);
        Tensor dl = backend.allocate(batch * m.config().numClasses());
        // eps 1e-3, not 1e-8: Adam divides by |g|, so gradients that are zero up to rounding (the key
        // bias of attention, say) would turn 1e-12 differences into full-size steps
        AdamW opt = new AdamW(m.arena(), 0.9f, 0.999f, 1e-3f, 0.05f);
        for (int step = 0; step < 2; step++) {
            m.arena().zeroGrads();
            Tensor logits = m.forward(x, batch);
            backend.crossEntropy(logits, new int[] {0, 1, 2, 1}, dl, batch, m.config().numClasses(), 0.1f,
                    1f / batch, false);
            m.backward(dl);
            opt.step(1e-2f, m.trainableRegions());
        }
        float[] all = backend.download(m.arena().values());
        float[] grads = backend.download(m.arena().grads());
        float[] out = new float[all.length * 2];
        System.arraycopy(all, 0, out, 0, all.length);
        System.arraycopy(grads, 0, out, all.length, grads.length);
        return out;
    }

    /** The low-rank tiny ViT, randomized the same way on every backend. */
    private static VisionTransformer tinyModel(Backend backend) {
        VisionTransformer m = VisionTransformer.withLowRank(backend, ModelTestSupport.tinyConfig(), MAX);
        ModelTestSupport.randomize(m, new Random(3), 0.4);
        return m;
    }

    /** {@code batch} Gaussian images on {@code backend}, the same on every backend. */
    private static Tensor images(Backend backend, VisionTransformer m, int batch) {
        float[] img = new float[batch * m.config().imageSize()];
        Random r = new Random(9);
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) r.nextGaussian();
        }
        Tensor x = backend.allocate(img.length);
        backend.upload(img, 0, x);
        return x;
    }

    /** Logits of image 0: alone (attention batched over heads) and in a batch of 4 (over images). */
    private static float[][] singleAndBatched(Backend backend) {
        VisionTransformer m = tinyModel(backend);
        int classes = m.config().numClasses();
        Tensor x = images(backend, m, 4);
        float[] batched = java.util.Arrays.copyOf(backend.download(m.forward(x, 4)), classes);
        float[] single = java.util.Arrays.copyOf(backend.download(m.forward(x, 1)), classes);
        return new float[][] {single, batched};
    }

    /**
     * {@code infer} (the last block on the class token alone, over the shared buffers) on the
     * emulated device against the CPU's training forward, for four images.
     */
    @Test
    void emulatedCudaInferGivesTheLogitsOfTheCpuForward() {
        Backend cpu = new CpuBackend();
        VisionTransformer onCpu = tinyModel(cpu);
        float[] forward = cpu.download(onCpu.forward(images(cpu, onCpu, 4), 4));
        Backend gpu = new CudaBackend(new EmulatedDevice());
        VisionTransformer onGpu = tinyModel(gpu);
        float[] inferred = gpu.download(onGpu.infer(images(gpu, onGpu, 4), 4));
        assertClose("emulated CUDA infer vs CPU forward", inferred, toDouble(forward), 1e-5);
    }

    @Test
    void singleImageAttentionAgreesWithTheBatchedPathOnBothBackends() {
        assertTrue(ModelTestSupport.tinyConfig().numHeads() > 1, "needs fewer images than heads");
        float[][] cpu = singleAndBatched(new CpuBackend());
        float[][] gpu = singleAndBatched(new CudaBackend(new EmulatedDevice()));
        double[] reference = toDouble(cpu[1]);
        assertClose("CPU, one image vs in a batch", cpu[0], reference, 1e-5);
        assertClose("emulated CUDA, one image", gpu[0], reference, 1e-5);
        assertClose("emulated CUDA, in a batch", gpu[1], reference, 1e-5);
    }

    @Test
    void emulatedCudaTrainingStepMatchesTheCpu() {
        float[] cpu = train(new CpuBackend());
        float[] gpu = train(new CudaBackend(new EmulatedDevice()));
        VisionTransformer layout = VisionTransformer.withLowRank(new CpuBackend(), ModelTestSupport.tinyConfig(), MAX);
        int n = (int) layout.arena().size();
        for (Param p : layout.arena().params()) {
            int o = (int) p.offset();
            int len = (int) p.numel();
            assertClose("weights of " + p.name(), java.util.Arrays.copyOfRange(gpu, o, o + len),
                    toDouble(java.util.Arrays.copyOfRange(cpu, o, o + len)), 1e-5);
            assertClose("gradients of " + p.name(), java.util.Arrays.copyOfRange(gpu, n + o, n + o + len),
                    toDouble(java.util.Arrays.copyOfRange(cpu, n + o, n + o + len)), 1e-5);
        }
    }
}
