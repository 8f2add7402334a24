package dev.flora.engine.nn;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.tensor.Tensor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A batch split into lanes gives the logits and gradients of the same batch run whole: the
 * CPU backend splits a batch of 40 into 3 lanes; the same backend behind a proxy that keeps
 * batches whole is the reference. Two backward passes in a row check that the lanes' gradient
 * blocks are cleared after they are folded in, and a rank change between forwards checks that
 * the lanes follow the model's architecture.
 */
class BatchLanesTest {
    private static final Map<String, Integer> MAX_RANKS = Map.of("blocks.0.attn.qkv", 6, "blocks.1.mlp.fc2", 8);

    @Test
    void lanesGiveTheLogitsAndGradientsOfTheWholeBatch() {
        ViTConfig cfg = ModelTestSupport.tinyConfig();
        CpuBackend cpu = new CpuBackend();
        Backend whole = keepingBatchesWhole(cpu);
        int batch = 40;
        assertTrue(cpu.batchLanes(batch) > 1, "the CPU backend should split a batch of " + batch);
        assertEquals(1, whole.batchLanes(batch));

        VisionTransformer laned = VisionTransformer.withLowRank(cpu, cfg, MAX_RANKS);
        VisionTransformer reference = VisionTransformer.withLowRank(whole, cfg, MAX_RANKS);
        Random rng = new Random(11);
        ModelTestSupport.randomize(laned, rng, 0.5);
        cpu.copy(laned.arena().values(), reference.arena().values());

        float[] images = new float[batch * cfg.imageSize()];
        for (int i = 0; i < images.length; i++) {
            images[i] = (float) rng.nextGaussian();
        }
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = rng.nextInt(cfg.numClasses());
        }
        Tensor img = cpu.allocate(images.length);
        cpu.upload(images, 0, img);

        for (int rank : new int[] {4, 2}) {
            laned.setRank("blocks.1.mlp.fc2", rank);
            reference.setRank("blocks.1.mlp.fc2", rank);
            laned.arena().zeroGrads();
            reference.arena().zeroGrads();
            for (int pass = 0; pass < 2; pass++) {
                float[] expected = step(reference, img, labels, batch);
                float[] actual = step(laned, img, labels, batch);
                assertClose("logits at rank " + rank, actual, toDouble(expected), 1e-5);
            }
            float[] expectedGrads = cpu.download(reference.arena().grads());
            float[] actualGrads = cpu.download(laned.arena().grads());
            for (Param p : laned.arena().params()) {
                int from = Math.toIntExact(p.offset());
                int to = from + Math.toIntExact(p.numel());
                assertClose(p.name() + " gradient at rank " + rank,
                        java.util.Arrays.copyOfRange(actualGrads, from, to),
                        toDouble(java.util.Arrays.copyOfRange(expectedGrads, from, to)), 1e-4);
            }
        }
    }

    /**
     * Inference, whole or in lanes, allocates no gradient block (for DeiT-B each would be
     * 330 MiB); the first backward pass allocates the model's and each lane's.
     */
    @Test
    void onlyTrainingAllocatesGradientBlocks() {
        ViTConfig cfg = ModelTestSupport.tinyConfig();
        CpuBackend cpu = new CpuBackend();
        VisionTransformer model = VisionTransformer.withLowRank(cpu, cfg, MAX_RANKS);
        ModelTestSupport.randomize(model, new Random(3), 0.5);
        int batch = 40;
        Tensor img = cpu.allocate(batch * cfg.imageSize());
        model.infer(img, 1);
        model.infer(img, batch);
        assertEquals(cpu.batchLanes(batch), model.lanes().size());
        assertFalse(model.arena().gradientsAllocated(), "inference allocated the model's gradient block");
        for (VisionTransformer lane : model.lanes()) {
            assertFalse(lane.arena().gradientsAllocated(), "inference allocated a lane's gradient block");
        }

        step(model, img, new int[batch], batch);
        assertTrue(model.arena().gradientsAllocated());
        for (VisionTransformer lane : model.lanes()) {
            assertTrue(lane.arena().gradientsAllocated());
            assertNotSame(model.arena().grads(), lane.arena().grads(), "a lane has gradients of its own");
        }
    }

    /** Forward, cross-entropy and backward of one batch; returns the logits. */
    private static float[] step(VisionTransformer model, Tensor img, int[] labels, int batch) {
        Backend b = model.backend();
        int classes = model.config().numClasses();
        Tensor logits = model.forward(img, batch);
        float[] out = b.download(logits);
        Tensor dLogits = b.allocate(batch * classes);
        b.crossEntropy(logits, labels, dLogits, batch, classes, 0.1f, 1f / batch, false);
        model.backward(dLogits);
        return out;
    }

    /** {@code cpu} with every op as is, except that it never splits a batch. */
    private static Backend keepingBatchesWhole(CpuBackend cpu) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("batchLanes")) {
                        return 1;
                    }
                    try {
                        return method.invoke(cpu, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
