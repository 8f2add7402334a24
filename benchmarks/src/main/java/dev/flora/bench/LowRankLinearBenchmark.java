package dev.flora.bench;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.nn.Linear;
import dev.flora.engine.nn.LinearLayer;
import dev.flora.engine.nn.LowRankLinear;
import dev.flora.engine.nn.ParameterArena;
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
 * A factorized linear layer against the dense one on the same input, forward and
 * forward + backward: does a rank-r layer cost r·(in+out)/(in·out) of the dense time? Shapes are
 * vit-fmnist's at batch 128 (6400 token rows): fc1 128→512, qkv 128→384 and fc2 512→128, whose
 * first GEMM goes in pieces for OpenBLAS's small path where they fit (CpuLowRank). ratio = 1.0 is the
 * dense layer; other ratios are ranks of min(in, out).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = ForkedJvm.VECTOR_API)
public class LowRankLinearBenchmark {
    @Param({"128x512", "128x384", "512x128"})
    String shape;

    @Param({"1.0", "0.5", "0.25", "0.125"})
    double ratio;

    @Param({"6400"})
    int rows;

    private LinearLayer layer;
    private Tensor x;
    private Tensor dy;

    @Setup
    public void setup() {
        Backend backend = new CpuBackend();
        int in = Integer.parseInt(shape.split("x")[0]);
        int out = Integer.parseInt(shape.split("x")[1]);
        ParameterArena.Builder params = new ParameterArena.Builder();
        int rank = (int) Math.round(ratio * Math.min(in, out));
        layer = ratio == 1.0 ? new Linear(backend, params, "dense", in, out)
                : new LowRankLinear(backend, params, "lowrank", in, out, rank);
        ParameterArena arena = params.build(backend);
        Random r = new Random(1);
        float[] w = new float[(int) arena.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * 0.05);
        }
        backend.upload(w, 0, arena.values());
        x = backend.allocate(rows * in);
        dy = backend.allocate(rows * out);
        backend.fill(x, 0.1f);
        backend.fill(dy, 0.01f);
    }

    @Benchmark
    public Tensor forward() {
        return layer.forward(x, rows);
    }

    @Benchmark
    public Tensor forwardBackward() {
        layer.forward(x, rows);
        return layer.backward(dy);
    }
}
