package dev.flora.bench;

import dev.flora.api.VitPredictor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load test of the embedding API: THREADS threads call one {@link VitPredictor} for SECONDS,
 * one image per call, and every answer is compared bit for bit with the single-threaded answer
 * for that image. Prints throughput, latency percentiles (p50, p99, p99.9, max), resident memory
 * (VmRSS) at the start, every tenth of the run and at the end, then checks {@code close()}: a
 * call after it throws {@code IllegalStateException} and no thread of ours is left running.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.flora.bench.PredictorLoadTest MODEL THREADS SECONDS [WORKERS]
 * </pre>
 * Exit 1 when an answer differs or close() misbehaves.
 */
public final class PredictorLoadTest {
    /** Distinct inputs the threads cycle through; enough that neighbouring calls differ. */
    private static final int IMAGES = 16;

    private PredictorLoadTest() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: PredictorLoadTest MODEL THREADS SECONDS [WORKERS]");
            System.exit(2);
        }
        String model = args[0];
        int threads = Integer.parseInt(args[1]);
        double seconds = Double.parseDouble(args[2]);
        int workers = args.length > 3 ? Integer.parseInt(args[3]) : VitPredictor.DEFAULT_WORKERS;
        VitPredictor p = VitPredictor.load(model, workers, 1);
        float[][] images = new float[IMAGES][p.imageSize()];
        Random rng = new Random(27);
        for (float[] im : images) {
            for (int i = 0; i < im.length; i++) {
                im[i] = (float) rng.nextGaussian();
            }
        }
        float[][] expected = new float[IMAGES][];
        for (int i = 0; i < IMAGES; i++) {
            expected[i] = p.predict(images[i]);
        }
        for (int i = 0; i < 3 * IMAGES; i++) {
            p.predict(images[i % IMAGES]); // warm the JIT before the clock starts
        }
        long rssStart = rssKb();
        System.out.printf(Locale.ROOT, "%s: %d threads, %d workers, %.0f s, %d distinct images; RSS at start %,d KB%n",
                model, threads, workers, seconds, IMAGES, rssStart);

        long end = System.nanoTime() + (long) (seconds * 1e9);
        List<long[]> latencies = new ArrayList<>();
        int[] counts = new int[threads];
        AtomicLong mismatches = new AtomicLong();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            long[] own = new long[1 << 16];
            latencies.add(own);
            Thread th = new Thread(() -> {
                long[] lat = own;
                int n = 0;
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                while (System.nanoTime() < end) {
                    int i = (id * 7 + n) % IMAGES;
                    long t0 = System.nanoTime();
                    float[] got = p.predict(images[i]);
                    long dt = System.nanoTime() - t0;
                    if (!Arrays.equals(got, expected[i])) {
                        mismatches.incrementAndGet();
                    }
                    if (n == lat.length) {
                        lat = Arrays.copyOf(lat, 2 * lat.length);
                        latencies.set(id, lat);
                    }
                    lat[n++] = dt;
                }
                counts[id] = n;
            }, "load-" + t);
            callers.add(th);
            th.start();
        }
        long t0 = System.nanoTime();
        go.countDown();
        List<Long> rssSamples = new ArrayList<>();
        long step = (long) (seconds * 1e8);
        while (System.nanoTime() < end) {
            Thread.sleep(Math.max(1, Math.min(step / 1_000_000, (end - System.nanoTime()) / 1_000_000)));
            rssSamples.add(rssKb());
        }
        for (Thread th : callers) {
            th.join();
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        long rssEnd = rssKb();

        int total = Arrays.stream(counts).sum();
        long[] all = new long[total];
        int at = 0;
        for (int t = 0; t < threads; t++) {
            System.arraycopy(latencies.get(t), 0, all, at, counts[t]);
            at += counts[t];
        }
        Arrays.sort(all);
        System.out.printf(Locale.ROOT, "calls %,d in %.1f s: %.1f images/s; latency ms p50 %.2f, p99 %.2f, p99.9 %.2f, "
                        + "max %.2f%n", total, wall, total / wall, ms(all, 0.5), ms(all, 0.99), ms(all, 0.999),
                all.length == 0 ? 0 : all[all.length - 1] / 1e6);
        System.out.printf(Locale.ROOT, "RSS KB start %,d, during %s, end %,d (%+.1f %%)%n", rssStart,
                rssSamples.stream().map(v -> String.format(Locale.ROOT, "%,d", v)).toList(), rssEnd,
                100.0 * (rssEnd - rssStart) / rssStart);
        System.out.printf(Locale.ROOT, "answers differing from the single-threaded ones: %d of %,d%n", mismatches.get(),
                total);
        System.out.printf(Locale.ROOT, "| %s | %d | %d | %.1f | %.2f | %.2f | %.2f | %,d | %,d | %d |%n", model,
                threads, workers, total / wall, ms(all, 0.5), ms(all, 0.99), ms(all, 0.999), rssStart / 1024,
                rssEnd / 1024, mismatches.get());

        boolean closedCleanly = checkClose(p, images[0]);
        System.exit(mismatches.get() == 0 && closedCleanly ? 0 : 1);
    }

    /** close(): a later call throws IllegalStateException and none of our caller threads lingers. */
    private static boolean checkClose(VitPredictor p, float[] image) {
        p.close();
        boolean threw;
        try {
            p.predict(image);
            threw = false;
        } catch (IllegalStateException expected) {
            threw = true;
        }
        long ours = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("load-")).count();
        long nonDaemon = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !t.isDaemon() && t != Thread.currentThread() && t.isAlive()
                        && !t.getName().equals("DestroyJavaVM")).count();
        System.out.printf(Locale.ROOT, "close(): later call throws IllegalStateException: %s; caller threads left: %d; "
                + "other non-daemon threads: %d%n", threw, ours, nonDaemon);
        return threw && ours == 0;
    }

    private static double ms(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))] / 1e6;
    }

    /** Resident set size of this process, from /proc/self/status (0 where there is none). */
    static long rssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
