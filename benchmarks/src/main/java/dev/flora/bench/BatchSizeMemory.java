package dev.flora.bench;

import dev.flora.api.VitPredictor;
import dev.flora.engine.backend.Precision;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Resident memory of a {@link VitPredictor} that is given every batch size from 1 to MAX_BATCH,
 * in the order ORDER, twice over: what a service whose batches vary holds after it has seen
 * them all. Each new batch size makes new oneDNN primitives (one per product shape) and may grow
 * the activation buffers; the second pass shows whether anything grows on sizes seen before.
 * ORDER is {@code up} (1, 2, …: every buffer grows again and again), {@code down} (the largest
 * first: the buffers grow once), {@code max} (MAX_BATCH alone, the baseline) or {@code random}
 * (a fixed shuffle). Run it with a fixed, pre-touched heap ({@code -Xms1g -Xmx1g
 * -XX:+AlwaysPreTouch}) so that the Java heap's part of the resident memory stays the same.
 *
 * <pre>
 * java -Xms1g -Xmx1g -XX:+AlwaysPreTouch -cp benchmarks/target/benchmarks.jar dev.flora.bench.BatchSizeMemory MODEL fp32|bf16 MAX_BATCH up|down|max|random
 * </pre>
 */
public final class BatchSizeMemory {
    private BatchSizeMemory() {
    }

    public static void main(String[] args) {
        if (args.length != 4) {
            System.err.println("usage: BatchSizeMemory MODEL fp32|bf16 MAX_BATCH up|down|max|random");
            System.exit(2);
        }
        Precision precision = Precision.parse(args[1], "precision");
        int maxBatch = Integer.parseInt(args[2]);
        int[] order = order(args[3], maxBatch);
        try (VitPredictor p = VitPredictor.load(args[0], 1, maxBatch, precision)) {
            long before = PredictorLoadTest.rssKb();
            System.out.printf(Locale.ROOT, "%s %s, batch sizes %s up to %d; RSS after loading %,d KB%n", args[0],
                    precision, args[3], maxBatch, before);
            for (int pass = 1; pass <= 2; pass++) {
                for (int i = 0; i < order.length; i++) {
                    p.predict(new float[order[i] * p.imageSize()], order[i]);
                    if (i == order.length - 1 || (i + 1) % Math.max(1, order.length / 6) == 0) {
                        System.out.printf(Locale.ROOT, "pass %d, %d sizes (last %d): RSS %,d KB%n", pass, i + 1,
                                order[i], PredictorLoadTest.rssKb());
                    }
                }
            }
        }
    }

    private static int[] order(String name, int maxBatch) {
        int[] sizes = new int[maxBatch];
        for (int i = 0; i < maxBatch; i++) {
            sizes[i] = i + 1;
        }
        switch (name) {
            case "up" -> {
                return sizes;
            }
            case "down" -> {
                for (int i = 0; i < maxBatch; i++) {
                    sizes[i] = maxBatch - i;
                }
                return sizes;
            }
            case "max" -> {
                return new int[] {maxBatch};
            }
            case "random" -> {
                List<Integer> shuffled = new ArrayList<>(IntStream.of(sizes).boxed().toList());
                Collections.shuffle(shuffled, new Random(48));
                return shuffled.stream().mapToInt(Integer::intValue).toArray();
            }
            default -> throw new IllegalArgumentException("order must be up, down, max or random, got " + name);
        }
    }
}
