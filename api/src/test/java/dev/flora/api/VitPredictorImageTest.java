package dev.flora.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.image.ImageFiles;
import dev.flora.models.ModelLabels;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** VitPredictor on image files and decoded images, with the bundled low-rank model. */
class VitPredictorImageTest {
    private static final String MODEL = "vit-fmnist-flora";

    @TempDir
    Path dir;

    /** A 28×28 greyscale image: a bright blob on noise, different for every seed. */
    static BufferedImage grey(long seed, int w, int h) {
        Random rng = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        int cx = rng.nextInt(w);
        int cy = rng.nextInt(h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double d = Math.hypot(x - cx, y - cy);
                int v = (int) Math.min(255, Math.max(0, 255 - 12 * d + rng.nextInt(40)));
                img.getRaster().setSample(x, y, 0, v);
            }
        }
        return img;
    }

    static Path png(BufferedImage img, Path file) throws Exception {
        assertTrue(ImageIO.write(img, "png", file.toFile()), "no PNG writer");
        return file;
    }

    @Test
    void classifyingAFileEqualsPredictingItsPreprocessedFloats() throws Exception {
        BufferedImage rgb = new BufferedImage(41, 33, BufferedImage.TYPE_INT_RGB);
        Random rng = new Random(7);
        for (int y = 0; y < 33; y++) {
            for (int x = 0; x < 41; x++) {
                rgb.setRGB(x, y, rng.nextInt(1 << 24));
            }
        }
        List<Path> files = List.of(png(grey(1, 28, 28), dir.resolve("grey.png")), png(rgb, dir.resolve("rgb.png")));
        try (VitPredictor p = VitPredictor.load(MODEL, 1, 4)) {
            for (Path f : files) {
                float[] x = p.preprocess(ImageFiles.read(f));
                assertEquals(p.imageSize(), x.length);
                float[] logits = p.predict(x);
                assertEquals(VitPredictor.argmax(logits, 0, logits.length), p.classify(f), f.toString());
                assertEquals(p.classify(x), p.classify(ImageIO.read(f.toFile())), f + " as a BufferedImage");
                double[] prob = VitPredictor.softmax(logits);
                for (Prediction top : p.topK(f, 10)) {
                    assertEquals(prob[top.index()], top.prob(), 0.0, f + " class " + top.index());
                }
            }
        }
    }

    @Test
    void topKIsSortedAndItsProbabilitiesSumToAtMostOne() throws Exception {
        try (VitPredictor p = VitPredictor.load(MODEL, 1, 4)) {
            assertEquals(ModelLabels.FASHION_MNIST, p.labels());
            for (long seed = 0; seed < 5; seed++) {
                float[] x = p.preprocess(ImageFiles.fromBufferedImage(grey(seed, 28, 28)));
                for (int k = 1; k <= p.numClasses(); k++) {
                    List<Prediction> top = p.topK(x, k);
                    assertEquals(k, top.size());
                    double sum = 0;
                    for (int r = 0; r < k; r++) {
                        Prediction t = top.get(r);
                        assertEquals(p.labels().get(t.index()), t.label());
                        assertTrue(t.prob() >= 0 && t.prob() <= 1, t.toString());
                        if (r > 0) {
                            Prediction prev = top.get(r - 1);
                            assertTrue(prev.prob() > t.prob() || prev.prob() == t.prob() && prev.index() < t.index(),
                                    "rank " + r + ": " + top);
                        }
                        sum += t.prob();
                    }
                    assertTrue(sum <= 1 + 1e-12, "sum " + sum);
                    if (k == p.numClasses()) {
                        assertEquals(1, sum, 1e-9);
                    }
                }
                assertEquals(p.classify(x), p.topK(x, 1).get(0).index());
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> p.topK(new float[p.imageSize()], 11));
            assertTrue(e.getMessage().contains("between 1 and 10"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> p.topK(new float[p.imageSize()], 0));
        }
    }

    @Test
    void softmaxTiesRankByIndex() {
        double[] p = VitPredictor.softmax(new float[] {1f, 3f, 3f, 1000f, -1000f});
        assertEquals(1, p[3], 1e-12, "large logits stay finite");
        assertEquals(p[1], p[2]);
        assertEquals(0, p[4]);
    }

    @Test
    void eightThreadsGetBitIdenticalAnswersToOne() throws Exception {
        int n = 24;
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            files.add(png(grey(100 + i, 28 + i % 5, 28), dir.resolve("img" + i + ".png")));
        }
        try (VitPredictor p = VitPredictor.load(MODEL, 3, 8)) {
            List<float[]> logits = new ArrayList<>();
            List<List<Prediction>> tops = new ArrayList<>();
            for (Path f : files) {
                logits.add(p.predict(p.preprocess(ImageFiles.read(f))));
                tops.add(p.topK(f, 5));
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<float[]>> gotLogits = new ArrayList<>();
                List<Future<List<Prediction>>> gotTops = new ArrayList<>();
                for (int rep = 0; rep < 4; rep++) {
                    for (Path f : files) {
                        gotLogits.add(pool.submit(() -> p.predict(p.preprocess(ImageFiles.read(f)))));
                        gotTops.add(pool.submit(() -> p.topK(f, 5)));
                    }
                }
                for (int k = 0; k < gotLogits.size(); k++) {
                    assertArrayEquals(logits.get(k % n), gotLogits.get(k).get(), "call " + k);
                    assertEquals(tops.get(k % n), gotTops.get(k).get(), "call " + k);
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void callsAfterCloseThrow() throws Exception {
        Path f = png(grey(3, 28, 28), dir.resolve("x.png"));
        VitPredictor p = VitPredictor.load(MODEL, 2, 4);
        float[] x = new float[p.imageSize()];
        p.predict(x);
        p.close();
        p.close(); // twice is fine
        List<Runnable> calls = List.of(() -> p.predict(x), () -> p.classify(x), () -> p.topK(x, 3),
                () -> p.classify(f), () -> p.topK(f, 3), () -> p.classifyPixels(new byte[p.imageSize()]),
                () -> p.classify(grey(3, 28, 28)));
        for (Runnable call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call::run);
            assertEquals("VitPredictor is closed", e.getMessage());
        }
    }

    /**
     * One replica, busy with a long batch; a second caller waits for it. Closing lets the batch
     * finish and releases the waiting caller with IllegalStateException (it used to block forever).
     */
    @Test
    void closeFinishesTheCallInFlightAndReleasesTheOneWaiting() throws Exception {
        int batch = 1500;
        VitPredictor p = VitPredictor.load(MODEL, 1, 64);
        float[] first = p.preprocess(ImageFiles.fromBufferedImage(grey(5, 28, 28)));
        float[] images = new float[batch * p.imageSize()];
        System.arraycopy(first, 0, images, 0, first.length);
        float[] expected = p.predict(first);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<float[]> inFlight = threads.submit(() -> p.predict(images, batch));
            Thread.sleep(50); // let the batch take the replica
            Thread[] waiter = new Thread[1];
            Future<float[]> waiting = threads.submit(() -> {
                waiter[0] = Thread.currentThread();
                return p.predict(first);
            });
            long deadline = System.nanoTime() + 5_000_000_000L;
            while ((waiter[0] == null || waiter[0].getState() != Thread.State.WAITING)
                    && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            boolean sawWaiting = !inFlight.isDone() && waiter[0] != null
                    && waiter[0].getState() == Thread.State.WAITING;
            p.close(); // returns once the batch has given its replica back (ReplicaPoolTest pins that)
            float[] got = inFlight.get(30, TimeUnit.SECONDS);
            for (int j = 0; j < expected.length; j++) {
                assertEquals(expected[j], got[j], 1e-4f * Math.max(1, Math.abs(expected[j])));
            }
            if (sawWaiting) {
                Exception e = assertThrows(Exception.class, () -> waiting.get(30, TimeUnit.SECONDS));
                assertTrue(e.getCause() instanceof IllegalStateException, String.valueOf(e.getCause()));
                assertEquals("VitPredictor is closed", e.getCause().getMessage());
            }
        } finally {
            threads.shutdownNow();
            p.close();
        }
    }

    @Test
    void closingLeavesNoThreadOfItsOwn() throws Exception {
        VitPredictor.load(MODEL, 1, 4).close(); // starts the backend's process-wide pool once
        Set<Thread> before = nonDaemonThreads();
        try (VitPredictor p = VitPredictor.load(MODEL, 4, 4)) {
            p.topK(new float[p.imageSize()], 3);
        }
        Set<Thread> after = nonDaemonThreads();
        after.removeAll(before);
        assertEquals(Set.of(), after);
    }

    private static Set<Thread> nonDaemonThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && !t.isDaemon())
                .collect(Collectors.toSet());
    }
}
