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
 * other figure (GFLOP/s = 2·n³ / time).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
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

    @Benchmark
    public Tensor sgemm() {
        backend.gemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);
        return c;
    }
}
