package dev.flora.latency;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The timing loop behind every figure of a latency table. On a shared machine a forward's time
 * varies in phases: for a fraction of a second to a few seconds every call runs 20–50 % slower
 * (other work on the host), then fast again. Two things keep those phases out of the figures.
 * {@link #timeAll} spreads each call's samples evenly over {@code rounds} short, interleaved
 * passes over every call it times, so each figure has samples from the whole loop and two
 * figures compared with each other were taken under the same conditions. And the figure is a
 * low {@code quantile} of the samples, not their median: the time the machine gives when it is
 * not disturbed, which repeats where the median jumps with the share of slow samples. A call
 * gets untimed warm-up calls first, then as many samples as its time cap holds, shared out over
 * the rounds. (Ending a call's sampling early once its samples agree, as an earlier loop did,
 * let a call sampled only in a slow phase keep that phase's figure.) Each call is followed by a
 * device synchronize, so an asynchronous backend is timed to completion.
 */
public final class LatencyMeter {
    /** Samples even past the time cap, so a slow call (DeiT-S at batch 32: about a second) still has a figure. */
    static final int FLOOR_SAMPLES = 3;
    private static final int MAX_SAMPLES = 500;
    /**
     * Calls of a few microseconds are repeated within one sample until it lasts this long, so
     * the timer's resolution and one stray interrupt do not make the figure.
     */
    private static final long MIN_SAMPLE_NANOS = 200_000;

    private final Backend backend;
    private final double capSeconds;
    private final double quantile;
    private final int rounds;

    /**
     * @param capSeconds   most seconds for one figure, warm-up included (at least {@link #FLOOR_SAMPLES} samples)
     * @param quantile     which quantile of the samples is the figure (0.5: the median)
     * @param rounds       passes the samples of one figure are gathered in
     */
    public LatencyMeter(Backend backend, double capSeconds, double quantile, int rounds) {
        if (!(capSeconds > 0) || !(quantile >= 0 && quantile <= 1) || rounds < 1) {
            throw new IllegalArgumentException("the time cap must be positive, the quantile in "
                    + "[0, 1] and rounds at least 1, got " + capSeconds + ", " + quantile
                    + " and " + rounds);
        }
        this.backend = backend;
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

    /**
     * {@link #timeAll} for calls with time caps of their own (modules and whole models in one loop).
     * Each call's samples are spread evenly over the rounds, a call's share of a round being its
     * budget (the samples its cap holds) over the rounds: the machine this runs on changes speed
     * from one second to the next (a shared host), and a call sampled only in a few long passes
     * would take its figure from whichever moments those were.
     */
    public List<Measurement> timeTogether(List<Call> calls) {
        List<Sampler> samplers = calls.stream().map(c -> new Sampler(c.run(), c.capSeconds())).toList();
        for (int r = 0; r < rounds; r++) {
            for (Sampler s : samplers) {
                s.pass(r);
            }
        }
        return samplers.stream().map(s -> s.measurement(quantile)).toList();
    }

    /** The samples of one call, round by round. */
    private final class Sampler {
        private final Runnable call;
        private final double capSeconds;
        private double[] samples;
        private int n;
        private int inner;
        private int budget;

        Sampler(Runnable call, double capSeconds) {
            this.call = call;
            this.capSeconds = capSeconds;
        }

        /** Round {@code round}'s share of the samples; the first round warms the call up. */
        void pass(int round) {
            if (inner == 0) {
                warmUp();
            }
            int due = (int) Math.ceil((double) budget * (round + 1) / rounds);
            while (n < due) {
                long t0 = System.nanoTime();
                for (int i = 0; i < inner; i++) {
                    call.run();
                }
                backend.synchronize();
                samples[n++] = (System.nanoTime() - t0) / 1e6 / inner;
            }
        }

        /**
         * Two untimed calls, more while they take under a tenth of the cap (JIT, caches,
         * buffers); then how many calls one sample repeats, and how many samples the rest of the
         * cap holds at the fastest warm-up call's pace (at least {@link #FLOOR_SAMPLES}, at most
         * {@link #MAX_SAMPLES}).
         */
        private void warmUp() {
            long cap = (long) (capSeconds * 1e9);
            long start = System.nanoTime();
            long fastest = Long.MAX_VALUE;
            int warm = 0;
            do {
                long t0 = System.nanoTime();
                call.run();
                backend.synchronize();
                // the fastest call sizes the samples: one stalled call (a collection, a slow phase) would
                // otherwise shrink the budget to a few samples
                fastest = Math.min(fastest, Math.max(1, System.nanoTime() - t0));
                warm++;
            } while (warm < 2 || (System.nanoTime() - start < cap / 10 && warm < 50));
            inner = (int) Math.max(1, Math.min(1000, MIN_SAMPLE_NANOS / fastest));
            budget = (int) Math.max(FLOOR_SAMPLES, Math.min(MAX_SAMPLES, cap * 9 / 10 / (fastest * inner)));
            samples = new double[budget];
        }

        Measurement measurement(double q) {
            double[] s = Arrays.copyOf(samples, n);
            return new Measurement(quantile(s, q), spread(s), n);
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
