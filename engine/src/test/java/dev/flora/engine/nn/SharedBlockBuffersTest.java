package dev.flora.engine.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.tensor.Tensor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Blocks share buffers where nothing needs them to be apart. {@link VisionTransformer#infer}
 * runs the blocks on one set of activation buffers: it must give the logits of
 * {@link VisionTransformer#forward} exactly, whole and in lanes, dense and low-rank; it must actually
 * share (a model four blocks deep allocates well under half of what forward allocates); and a
 * backward pass after it must be refused. Every backward pass shares the blocks' gradient
 * buffers; that the gradients stay right is checked by the gradient tests (two blocks deep),
 * that they are shared here.
 */
class SharedBlockBuffersTest {
    /** Four blocks, so that every block's buffers are reused by three others. */
    private static final ViTConfig DEEP = new ViTConfig(8, 4, 2, 8, 4, 2, 2.0, 3, new double[] {0.5, 0.5},
            new double[] {0.25, 0.25});
    private static final Map<String, Integer> MAX_RANKS = Map.of("blocks.0.attn.proj", 4, "blocks.2.mlp.fc1", 6,
            "blocks.3.mlp.fc2", 5);

    @Test
    void inferGivesTheLogitsOfForward() {
        CpuBackend cpu = new CpuBackend();
        VisionTransformer model = VisionTransformer.withLowRank(cpu, DEEP, MAX_RANKS);
        Random rng = new Random(5);
        ModelTestSupport.randomize(model, rng, 0.5);
        model.setRank("blocks.2.mlp.fc1", 3);
        for (int batch : new int[] {1, 3, 40}) { // 40 runs in lanes on the CPU backend
            Tensor img = images(cpu, batch, rng);
            float[] expected = cpu.download(model.forward(img, batch));
            float[] actual = cpu.download(model.infer(img, batch));
            assertArrayEquals(expected, actual, "logits of infer at batch " + batch);
            // and exactly again after the shared buffers hold another batch's activations
            float[] again = cpu.download(model.infer(img, batch));
            assertArrayEquals(actual, again, "second infer at batch " + batch);
        }
    }

    @Test
    void theLastBlockRunsOnTheClassTokenAloneForwardAndBackward() {
        CpuBackend cpu = new CpuBackend();
        List<Integer> linearRows = new ArrayList<>();
        List<Integer> biasGradRows = new ArrayList<>();
        Backend recording = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    if (method.getName().equals("linearForward")) {
                        linearRows.add((Integer) args[5]);
                    } else if (method.getName().equals("accumulateBiasGrad")) {
                        biasGradRows.add((Integer) args[2]);
                    } else if (method.getName().equals("linearBackward")) {
                        // a dense layer's bias gradient is summed inside its backward op
                        biasGradRows.add((Integer) args[6]);
                    }
                    try {
                        return method.invoke(cpu, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        VisionTransformer model = new VisionTransformer(recording, DEEP);
        int batch = 3;
        int tokenRows = batch * DEEP.tokens();
        Tensor img = images(cpu, batch, new Random(6));

        for (boolean train : new boolean[] {true, false}) {
            linearRows.clear();
            Tensor logits = train ? model.forward(img, batch) : model.infer(img, batch);
            // four linear layers per block on every token, except the last block's proj, fc1 and
            // fc2, which run on the class tokens like the head; its qkv still reads every token
            assertEquals(4 * DEEP.depth() - 3, linearRows.stream().filter(r -> r == tokenRows).count());
            assertEquals(4, linearRows.stream().filter(r -> r == batch).count());
            if (train) {
                Tensor dLogits = cpu.allocate(batch * DEEP.numClasses());
                cpu.fill(dLogits, 0.1f);
                model.backward(dLogits);
                // the same layers backward; the patch embedding's bias gradient sums its B·P rows
                assertEquals(4 * DEEP.depth() - 3, biasGradRows.stream().filter(r -> r == tokenRows).count());
                assertEquals(4, biasGradRows.stream().filter(r -> r == batch).count());
            }
            assertEquals(batch * DEEP.numClasses(), logits.numel());
        }
    }

    @Test
    void inferAllocatesAboutOneBlockOfActivations() {
        CpuBackend cpu = new CpuBackend();
        AtomicLong allocated = new AtomicLong();
        Backend counting = countingAllocations(cpu, allocated);
        int batch = 3;
        Tensor img = images(cpu, batch, new Random(1));

        VisionTransformer trained = new VisionTransformer(counting, DEEP);
        long beforeForward = allocated.get();
        trained.forward(img, batch);
        long forward = allocated.get() - beforeForward;

        VisionTransformer served = new VisionTransformer(counting, DEEP);
        long beforeInfer = allocated.get();
        served.infer(img, batch);
        long infer = allocated.get() - beforeInfer;
        assertTrue(infer * 2 < forward, "infer allocated " + infer + " floats, forward " + forward);
    }

    @Test
    void backwardAllocatesAboutOneBlockOfGradients() {
        CpuBackend cpu = new CpuBackend();
        AtomicLong allocated = new AtomicLong();
        VisionTransformer model = new VisionTransformer(countingAllocations(cpu, allocated), DEEP);
        int batch = 3;
        Tensor img = images(cpu, batch, new Random(4));
        Tensor dLogits = cpu.allocate(batch * DEEP.numClasses());
        long beforeForward = allocated.get();
        model.forward(img, batch);
        long forward = allocated.get() - beforeForward;
        model.arena().zeroGrads(); // as training does: the gradient block is allocated here, not counted
        long beforeBackward = allocated.get();
        model.backward(dLogits);
        long backward = allocated.get() - beforeBackward;
        assertTrue(backward * 2 < forward, "backward allocated " + backward + " floats, forward " + forward);
    }

    @Test
    void backwardAfterInferIsRefused() {
        CpuBackend cpu = new CpuBackend();
        VisionTransformer model = new VisionTransformer(cpu, DEEP);
        ModelTestSupport.randomize(model, new Random(2), 0.5);
        Tensor img = images(cpu, 2, new Random(3));
        Tensor dLogits = cpu.allocate(2 * DEEP.numClasses());
        assertThrows(IllegalStateException.class, () -> model.backward(dLogits), "backward before any forward");
        model.forward(img, 2);
        model.backward(dLogits);
        model.infer(img, 2);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.backward(dLogits));
        assertTrue(e.getMessage().contains("infer()"), e.getMessage());
    }

    private static Tensor images(Backend backend, int batch, Random rng) {
        float[] v = new float[batch * DEEP.imageSize()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        Tensor t = backend.allocate(v.length);
        backend.upload(v, 0, t);
        return t;
    }

    /** {@code cpu} with every op as is, adding the size of every allocation to {@code floats}. */
    private static Backend countingAllocations(CpuBackend cpu, AtomicLong floats) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("allocate")) {
                        long n = 1;
                        for (int d : (int[]) args[0]) {
                            n *= d;
                        }
                        floats.addAndGet(n);
                    }
                    try {
                        return method.invoke(cpu, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
