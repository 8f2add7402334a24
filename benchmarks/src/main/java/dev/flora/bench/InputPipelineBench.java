package dev.flora.bench;

import dev.flora.image.ImageFiles;
import dev.flora.image.Picture;
import dev.flora.image.Preprocessing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Images per second of the input pipeline: decode every PNG/JPEG under a folder and apply the
 * eval transform (timm defaults at 224: resize 256 bicubic, center crop, normalize) into a
 * float batch, on N threads. The peer is tools/peers/torchvision_input.py (ImageFolder +
 * DataLoader on the same files). Pass 1 warms up the JIT and the page cache; the figure is the
 * median of the timed passes.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.flora.bench.InputPipelineBench DIR THREADS [PASSES] [decode]
 * </pre>
 * With {@code decode}, only the decode is timed (to split the time between decode and transform).
 */
public final class InputPipelineBench {
    private InputPipelineBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: InputPipelineBench DIR THREADS [PASSES] [decode|train]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int passes = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        boolean decodeOnly = args.length > 3 && args[3].equals("decode");
        // train: RandomResizedCrop + flip instead of the eval transform, as pre-training runs it
        boolean train = args.length > 3 && args[3].equals("train");
        List<Path> files = imageFiles(dir);
        if (files.isEmpty()) {
            System.err.println(dir + ": no .png/.jpg/.jpeg files");
            System.exit(2);
        }
        Preprocessing pp = Preprocessing.timmDefaults(224, 3);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        double[] rates = new double[passes];
        try {
            pass(files, pp, pool, threads, decodeOnly, train);
            for (int i = 0; i < passes; i++) {
                long t0 = System.nanoTime();
                pass(files, pp, pool, threads, decodeOnly, train);
                rates[i] = files.size() / ((System.nanoTime() - t0) / 1e9);
            }
        } finally {
            pool.shutdown();
        }
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "%s: %d images, %d threads, %s: median %.1f images/s (passes: %s)%n", dir,
                files.size(), threads, decodeOnly ? "decode only" : train ? "decode + RandomResizedCrop 224 bicubic + flip"
                        : "decode + eval transform 224 bicubic",
                sorted[passes / 2],
                Arrays.toString(Arrays.stream(rates).map(r -> Math.round(r * 10) / 10.0).toArray()));
    }

    private static List<Path> imageFiles(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(ImageFiles::hasImageExtension).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot list the folder", e);
        }
    }

    /** One pass over the files; each worker fills its own batch of 64, as a loader's worker would. */
    private static void pass(List<Path> files, Preprocessing pp, ExecutorService pool, int threads,
                             boolean decodeOnly, boolean train) throws Exception {
        AtomicInteger next = new AtomicInteger();
        Future<?>[] workers = new Future<?>[threads];
        for (int t = 0; t < threads; t++) {
            java.util.Random rng = new java.util.Random(t);
            workers[t] = pool.submit(() -> {
                float[] batch = new float[64 * pp.imageFloats()];
                long checksum = 0;
                for (int i = next.getAndIncrement(), slot = 0; i < files.size(); i = next.getAndIncrement()) {
                    Picture p = ImageFiles.read(files.get(i));
                    if (decodeOnly) {
                        checksum += p.pixels()[0];
                    } else if (train) {
                        pp.trainInto(p, rng, batch, slot * pp.imageFloats());
                        slot = (slot + 1) % 64;
                    } else {
                        pp.evalInto(p, batch, slot * pp.imageFloats());
                        slot = (slot + 1) % 64;
                    }
                }
                return checksum;
            });
        }
        for (Future<?> w : workers) {
            w.get();
        }
    }
}
