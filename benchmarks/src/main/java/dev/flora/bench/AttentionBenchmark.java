package dev.flora.bench;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.tensor.Tensor;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The attention core of one block on one lane of images: q·kᵀ, the row softmax and p·v, as
 * {@link Backend#attentionForward}, at the {@code vit-fmnist} shape (50 tokens, 4 heads of 32)
 * and at DeiT-S's (197 tokens, 6 heads of 64), in fp32 (two sgemm calls per image and head; the
 * bf16 backend runs the same). The qkv values are
 * Gaussian, so the scores of a row come in random order as in a trained model; smooth test data
 * (a sine, say) makes every compare predictable and hides branch mispredictions. Run it with
 * -Dflora.threads=1 for the time of one core's lane.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = ForkedJvm.VECTOR_API)
public class AttentionBenchmark {
    @Param({"vit-fmnist", "deit-small"})
    String shape;

    @Param({"16"})
    int images;

    private int tokens;
    private int heads;
    private int headDim;
    private Backend backend;
    private Tensor qkv;
    private Tensor probs;
    private Tensor context;

    @Setup
    public void setup() {
        boolean deit = shape.equals("deit-small");
        tokens = deit ? 197 : 50;
        heads = deit ? 6 : 4;
        headDim = deit ? 64 : 32;
        int dim = heads * headDim;
        backend = new CpuBackend();
        qkv = backend.allocate(images * tokens, 3 * dim);
        probs = backend.allocate(images * heads, tokens, tokens);
        context = backend.allocate(images * tokens, dim);
        float[] values = new float[(int) qkv.numel()];
        Random random = new Random(7);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        backend.upload(values, 0, qkv);
    }

    @TearDown
    public void close() {
        backend.close();
    }

    @Benchmark
    public Tensor forward() {
        backend.attentionForward(qkv, probs, context, images, tokens, heads, headDim,
                (float) (1 / Math.sqrt(headDim)));
        return context;
    }
}
