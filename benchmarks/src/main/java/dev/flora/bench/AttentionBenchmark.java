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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The attention core of one {@code vit-fmnist} block (50 tokens, 4 heads of 32) on one lane of
 * images: q·kᵀ, the row softmax and p·v, as {@link Backend#attentionForward}. The qkv values are
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
    private static final int TOKENS = 50;
    private static final int HEADS = 4;
    private static final int HEAD_DIM = 32;
    private static final int DIM = HEADS * HEAD_DIM;

    @Param({"16"})
    int images;

    private Backend backend;
    private Tensor qkv;
    private Tensor probs;
    private Tensor context;

    @Setup
    public void setup() {
        backend = new CpuBackend();
        qkv = backend.allocate(images * TOKENS, 3 * DIM);
        probs = backend.allocate(images * HEADS, TOKENS, TOKENS);
        context = backend.allocate(images * TOKENS, DIM);
        float[] values = new float[(int) qkv.numel()];
        Random random = new Random(7);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        backend.upload(values, 0, qkv);
    }

    @Benchmark
    public Tensor forward() {
        backend.attentionForward(qkv, probs, context, images, TOKENS, HEADS, HEAD_DIM,
                (float) (1 / Math.sqrt(HEAD_DIM)));
        return context;
    }
}
