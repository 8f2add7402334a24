package dev.flora.latency;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;

/**
 * The timing loop behind every figure of a latency table: untimed warm-up calls, then samples
 * until their spread is at most {@code targetSpread} (after {@link #MIN_SAMPLES}) or the time
 * cap is spent; the median is the figure. Each call is followed by a device synchronize, so an
 * asynchronous backend is timed to completion.
 */
public final class LatencyMeter {
    /** Samples before the spread may stop the loop: a quartile of fewer says little. */
    static final int MIN_SAMPLES = 5;
    /** Samples even past the time cap, so a slow call (DeiT-S at batch 32: about a second) still has a median. */
    static final int FLOOR_SAMPLES = 3;
    private static final int MAX_SAMPLES = 200;
    /**
     * Calls of a few microseconds are repeated within one sample until it lasts this long, so
     * the timer's resolution and one stray interrupt do not make the figure.
     */
    private static final long MIN_SAMPLE_NANOS = 200_000;

    private final Backend backend;
    private final double targetSpread;
    private final double capSeconds;

    /**
     * @param targetSpread stop once the interquartile range is at most this fraction of the median
     * @param capSeconds   most seconds for one figure, warm-up included (at least {@link #FLOOR_SAMPLES} samples)
     */
    public LatencyMeter(Backend backend, double targetSpread, double capSeconds) {
        if (!(targetSpread > 0) || !(capSeconds > 0)) {
            throw new IllegalArgumentException("the target spread and the time cap must be positive, got "
                    + targetSpread + " and " + capSeconds);
        }
        this.backend = backend;
        this.targetSpread = targetSpread;
        this.capSeconds = capSeconds;
    }

    /** Inference time of {@code m} ({@code VisionTransformer.infer}) at {@code batch}, on random images. */
    public Measurement timeInference(VisionTransformer m, int batch) {
        Tensor images = randomImages(m, batch);
        return time(() -> m.infer(images, batch));
    }

    /** Runs {@code m}'s inference untimed for {@code seconds}, at least three times: the JIT's warm-up. */
    public void warmUp(VisionTransformer m, int batch, double seconds) {
        Tensor images = randomImages(m, batch);
        long start = System.nanoTime();
        for (int i = 0; i < 3 || System.nanoTime() - start < seconds * 1e9; i++) {
            m.infer(images, batch);
            backend.synchronize();
        }
    }

    private Tensor randomImages(VisionTransformer m, int batch) {
        return random(backend, batch * m.config().imageSize(), new Random(3), 1);
    }

    /** {@code n} normal draws of standard deviation {@code std} on {@code backend}: inputs and weights to time with. */
    static Tensor random(Backend backend, int n, Random rng, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextGaussian() * std);
        }
        Tensor t = backend.allocate(n);
        backend.upload(v, 0, t);
        return t;
    }

    public Measurement time(Runnable call) {
        long start = System.nanoTime();
        long cap = (long) (capSeconds * 1e9);
        // two untimed calls, more while they take under a tenth of the cap: JIT, caches, buffers
        long one;
        int warm = 0;
        do {
            long t0 = System.nanoTime();
            call.run();
            backend.synchronize();
            one = System.nanoTime() - t0;
            warm++;
        } while (warm < 2 || (System.nanoTime() - start < cap / 10 && warm < 50));
        int inner = (int) Math.max(1, Math.min(1000, MIN_SAMPLE_NANOS / Math.max(1, one)));
        double[] samples = new double[MAX_SAMPLES];
        int n = 0;
        while (n < MAX_SAMPLES) {
            long t0 = System.nanoTime();
            for (int i = 0; i < inner; i++) {
                call.run();
            }
            backend.synchronize();
            samples[n++] = (System.nanoTime() - t0) / 1e6 / inner;
            boolean settled = n >= MIN_SAMPLES && spread(Arrays.copyOf(samples, n)) <= targetSpread;
            boolean spent = n >= FLOOR_SAMPLES && System.nanoTime() - start > cap;
            if (settled || spent) {
                break;
            }
        }
        double[] s = Arrays.copyOf(samples, n);
        return new Measurement(median(s), spread(s), n);
    }

    /** The median of {@code x}. */
    static double median(double[] x) {
        return quantile(x, 0.5);
    }

    /** Interquartile range over the median. */
    static double spread(double[] x) {
        double m = median(x);
        return m > 0 ? (quantile(x, 0.75) - quantile(x, 0.25)) / m : 0;
    }

    /** The q-quantile, interpolated between order statistics. */
    private static double quantile(double[] x, double q) {
        double[] s = x.clone();
        Arrays.sort(s);
        double pos = q * (s.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(s.length - 1, lo + 1);
        return s[lo] + (pos - lo) * (s[hi] - s[lo]);
    }
}
