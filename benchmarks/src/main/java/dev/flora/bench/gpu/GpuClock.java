package dev.flora.bench.gpu;

import dev.flora.engine.backend.Backend;
import java.util.Arrays;

/**
 * Wall-clock timing of asynchronous device work: a call only queues kernels, so each sample
 * times a run of calls closed by one synchronize, and the median over samples is reported.
 * The run length grows until a sample takes at least {@code minMillis}, so launch latency
 * does not dominate short kernels.
 */
final class GpuClock {
    private final Backend backend;
    private final double minMillis;
    private final int samples;

    GpuClock(Backend backend, double minMillis, int samples) {
        this.backend = backend;
        this.minMillis = minMillis;
        this.samples = samples;
    }

    /** Median milliseconds per call of {@code work}. */
    double millisPerCall(Runnable work) {
        work.run(); // warm-up: module load, first-touch allocations
        backend.synchronize();
        int calls = 1;
        while (true) {
            double ms = run(work, calls);
            if (ms >= minMillis || calls >= 1 << 16) {
                break;
            }
            calls *= ms <= 0 ? 16 : Math.max(2, (int) Math.ceil(minMillis / ms));
        }
        double[] perCall = new double[samples];
        for (int i = 0; i < samples; i++) {
            perCall[i] = run(work, calls) / calls;
        }
        Arrays.sort(perCall);
        return perCall[samples / 2];
    }

    private double run(Runnable work, int calls) {
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            work.run();
        }
        backend.synchronize();
        return (System.nanoTime() - start) / 1e6;
    }
}
