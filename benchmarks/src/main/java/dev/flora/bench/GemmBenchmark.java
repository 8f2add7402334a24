package dev.flora.bench;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.tensor.Tensor;
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
 * Square sgemm through the CPU backend: the machine's practical peak, the yardstick for every
 * other figure (GFLOP/s = 2·n³ / time). {@code linear} is a single-image linear layer's GEMM
 * (50 token rows, x · Wᵀ with W [512, 128]), split between the caller and the spinning helper:
 * with -Dflora.threads=1 it runs on one core, so the two show how much the second core gives.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsPrepend = ForkedJvm.VECTOR_API)
public class GemmBenchmark {
    @Param({"1024"})
    int n;

    private Backend backend;
    private Tensor a;
    private Tensor b;
    private Tensor c;

    @Setup
    public void setup() {
        backend = new CpuBackend();
        a = backend.allocate(n, n);
        b = backend.allocate(n, n);
        c = backend.allocate(n, n);
        backend.fill(a, 0.5f);
        backend.fill(b, 0.25f);
    }

    private Tensor x1;
    private Tensor w1;
    private Tensor y1;

    @Setup
    public void setupLinear() {
        x1 = backend.allocate(50, 128);
        w1 = backend.allocate(512, 128);
        y1 = backend.allocate(50, 512);
        backend.fill(x1, 0.5f);
        backend.fill(w1, 0.25f);
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public Tensor linear() {
        backend.gemm(false, true, 50, 512, 128, 1f, x1, 128, w1, 128, 0f, y1, 512);
        return y1;
    }

    @Benchmark
    public Tensor sgemm() {
        backend.gemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);
        return c;
    }
}
