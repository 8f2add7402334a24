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

/** Thin SVD of the weight shapes a supernet factorizes (vit-fmnist's and DeiT-B's). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsPrepend = ForkedJvm.VECTOR_API)
public class SvdBenchmark {
    @Param({"384x128", "512x128", "2304x768", "3072x768"})
    String shape;

    private Backend backend;
    private Tensor a;
    private Tensor u;
    private Tensor s;
    private Tensor vt;
    private int m;
    private int n;

    @Setup
    public void setup() {
        backend = new CpuBackend();
        m = Integer.parseInt(shape.split("x")[0]);
        n = Integer.parseInt(shape.split("x")[1]);
        int k = Math.min(m, n);
        float[] w = new float[m * n];
        Random r = new Random(1);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
        }
        a = backend.allocate(m * n);
        backend.upload(w, 0, a);
        u = backend.allocate(m * k);
        s = backend.allocate(k);
        vt = backend.allocate(k * n);
    }

    @Benchmark
    public Tensor svd() {
        backend.svd(a, m, n, u, s, vt);
        return s;
    }
}
