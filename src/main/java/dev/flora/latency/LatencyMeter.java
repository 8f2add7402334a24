package dev.flora.latency;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The timing loop behind every figure of a latency table. On a shared machine a forward's time
 * varies in phases: for a second or so every call runs 20–50 % slower (other work on the host),
 * then fast again. Two things keep those phases out of the figures. Samples are gathered in
 * {@code rounds} passes, and {@link #timeAll} interleaves the passes over every call it times,
 * so each figure has samples from several moments and two figures compared with each other were
 * taken under the same conditions. And the figure is a low {@code quantile} of the samples, not
 * their median: the time the machine gives when it is not disturbed, which repeats where the
 * median jumps with the share of slow samples. Each pass: untimed warm-up calls the first time,
 * then samples until their spread is at most {@code targetSpread} (after {@link #MIN_SAMPLES})
 * or the pass's share of the time cap is spent. Each call is followed by a device synchronize,
 * so an asynchronous backend is timed to completion.
 */
public final class LatencyMeter {
    /** Samples in a pass before the spread may end it: a quartile of fewer says little. */
    static final int MIN_SAMPLES = 5;
    /** Samples even past the time cap, so a slow call (DeiT-S at batch 32: about a second) still has a figure. */
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
    private final double quantile;
    private final int rounds;

    /**
     * @param targetSpread stop a pass once the interquartile range is at most this fraction of the median
     * @param capSeconds   most seconds for one figure, warm-up included (at least {@link #FLOOR_SAMPLES} samples)
     * @param quantile     which quantile of the samples is the figure (0.5: the median)
     * @param rounds       passes the samples of one figure are gathered in
     */
    public LatencyMeter(Backend backend, double targetSpread, double capSeconds, double quantile, int rounds) {
        if (!(targetSpread > 0) || !(capSeconds > 0) || !(quantile >= 0 && quantile <= 1) || rounds < 1) {
            throw new IllegalArgumentException("the target spread and the time cap must be positive, the quantile in "
                    + "[0, 1] and rounds at least 1, got " + targetSpread + ", " + capSeconds + ", " + quantile
                    + " and " + rounds);
        }
        this.backend = backend;
        this.targetSpread = targetSpread;
        this.capSeconds = capSeconds;
        this.quantile = quantile;
        this.rounds = rounds;
    }

    /** Inference time of {@code m} ({@code VisionTransformer.infer}) at {@code batch}, on random images. */
    public Measurement timeInference(VisionTransformer m, int batch) {
        return time(inference(m, batch));
    }

    /** One inference of {@code m} at {@code batch} on fixed random images, for {@link #timeAll}. */
    public Runnable inference(VisionTransformer m, int batch) {
        Tensor images = randomImages(m, batch);
        return () -> m.infer(images, batch);
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

    /** The figure of one call: its passes one after another. */
    public Measurement time(Runnable call) {
        return timeAll(List.of(call)).get(0);
    }

    /**
     * The figures of {@code calls}, timed in {@link #rounds} interleaved passes: every call's
     * first pass, then every call's second, and so on; the figure of a call is the
     * {@link #quantile} of all its samples.
     */
    public List<Measurement> timeAll(List<Runnable> calls) {
        return timeTogether(calls.stream().map(c -> new Call(c, capSeconds)).toList());
    }

    /** Something to time and the most seconds its figure may take. */
    public record Call(Runnable run, double capSeconds) {
    }

    /** {@link #timeAll} for calls with time caps of their own (modules and whole models in one loop). */
    public List<Measurement> timeTogether(List<Call> calls) {
        List<Sampler> samplers = calls.stream().map(c -> new Sampler(c.run(), c.capSeconds())).toList();
        for (int r = 0; r < rounds; r++) {
            for (Sampler s : samplers) {
                s.pass(r == rounds - 1);
            }
        }
        return samplers.stream().map(s -> s.measurement(quantile)).toList();
    }

    /** The samples of one call, pass by pass. */
    private final class Sampler {
        private final Runnable call;
        private final double capSeconds;
        private double[] samples = new double[0];
        private int inner;

        Sampler(Runnable call, double capSeconds) {
            this.call = call;
            this.capSeconds = capSeconds;
        }

        /** One pass: its share of the cap; the last pass also fills the floor of samples. */
        void pass(boolean last) {
            long start = System.nanoTime();
            long cap = (long) (capSeconds * 1e9);
            long passCap = cap / rounds;
            if (inner == 0) {
                inner = warmUp(cap);
            }
            int begin = samples.length;
            double[] s = Arrays.copyOf(samples, begin + MAX_SAMPLES / rounds + FLOOR_SAMPLES);
            int n = begin;
            while (n < s.length) {
                long t0 = System.nanoTime();
                for (int i = 0; i < inner; i++) {
                    call.run();
                }
                backend.synchronize();
                s[n++] = (System.nanoTime() - t0) / 1e6 / inner;
                int inPass = n - begin;
                boolean settled = inPass >= MIN_SAMPLES && spread(Arrays.copyOfRange(s, begin, n)) <= targetSpread;
                boolean spent = System.nanoTime() - start > passCap && (!last || n >= FLOOR_SAMPLES);
                if (settled || spent) {
                    break;
                }
            }
            samples = Arrays.copyOf(s, n);
        }

        /**
         * Two untimed calls, more while they take under a tenth of the cap (JIT, caches,
         * buffers); returns how many calls one sample repeats.
         */
        private int warmUp(long cap) {
            long start = System.nanoTime();
            long one;
            int warm = 0;
            do {
                long t0 = System.nanoTime();
                call.run();
                backend.synchronize();
                one = System.nanoTime() - t0;
                warm++;
            } while (warm < 2 || (System.nanoTime() - start < cap / 10 && warm < 50));
            return (int) Math.max(1, Math.min(1000, MIN_SAMPLE_NANOS / Math.max(1, one)));
        }

        Measurement measurement(double q) {
            return new Measurement(quantile(samples, q), spread(samples), samples.length);
        }
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
    static double quantile(double[] x, double q) {
        double[] s = x.clone();
        Arrays.sort(s);
        double pos = q * (s.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(s.length - 1, lo + 1);
        return s[lo] + (pos - lo) * (s[hi] - s[lo]);
    }
}
