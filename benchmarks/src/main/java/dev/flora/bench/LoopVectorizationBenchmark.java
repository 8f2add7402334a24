package dev.flora.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Does C2 vectorize {@code row[j] += v[offset + j]} as it does {@code row[j] += v[j]}? A timing
 * loop in a {@code main} method said no, which is why the CPU backend's row loops index both
 * arrays alike ({@code CpuBackend.addRow}); here, compiled as ordinary methods, the two forms
 * run alike, so that loop's verdict does not carry over. 2000 additions per call, each way,
 * with arrays the JIT can and cannot tell apart.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = ForkedJvm.VECTOR_API)
public class LoopVectorizationBenchmark {
    private static final int N = 2000;

    private final float[] row = new float[N];
    private final float[] values = new float[2 * N];
    private final int offset = N;
    /** Two arrays behind one reference, so that the JIT cannot tell them apart. */
    private final float[][] arrays = {new float[2 * N], new float[2 * N]};

    @Benchmark
    public float[] sameIndex() {
        for (int j = 0; j < N; j++) {
            row[j] += values[j];
        }
        return row;
    }

    @Benchmark
    public float[] offsetIndex() {
        for (int j = 0; j < N; j++) {
            row[j] += values[offset + j];
        }
        return row;
    }

    @Benchmark
    public float[] unknownArraysSameIndex() {
        add(arrays[0], arrays[1], 0, N);
        return arrays[0];
    }

    @Benchmark
    public float[] unknownArraysOffsetIndex() {
        add(arrays[0], arrays[1], offset, N);
        return arrays[0];
    }

    private static void add(float[] row, float[] v, int off, int n) {
        for (int j = 0; j < n; j++) {
            row[j] += v[off + j];
        }
    }
}
