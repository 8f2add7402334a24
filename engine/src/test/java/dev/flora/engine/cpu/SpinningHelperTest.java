package dev.flora.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class SpinningHelperTest {
    private static final SpinningHelper HELPER = new SpinningHelper();

    @Test
    void bothHalvesRunAndTheSecondOnTheHelper() {
        Thread[] ran = new Thread[2];
        HELPER.runPair(() -> ran[0] = Thread.currentThread(), () -> ran[1] = Thread.currentThread());
        assertSame(Thread.currentThread(), ran[0]);
        assertEquals("flora-spinning-helper", ran[1].getName());
    }

    @Test
    void aPairPostedFromInsideAPairRunsInline() {
        int[] order = new int[4];
        int[] next = {0};
        HELPER.runPair(() -> { }, () -> HELPER.runPair(() -> order[next[0]++] = 1, () -> order[next[0]++] = 2));
        assertArrayEquals(new int[] {1, 2, 0, 0}, order);
    }

    @Test
    void failuresOfEitherHalfReachTheCaller() {
        assertThrows(IllegalStateException.class, () -> HELPER.runPair(() -> { }, () -> {
            throw new IllegalStateException("helper half");
        }));
        assertThrows(ArithmeticException.class, () -> HELPER.runPair(() -> {
            throw new ArithmeticException("caller half");
        }, () -> { }));
        // the helper is still usable afterwards
        int[] hits = new int[2];
        HELPER.runPair(() -> hits[0]++, () -> hits[1]++);
        assertArrayEquals(new int[] {1, 1}, hits);
    }

    @Test
    void manyCallersGetEveryHalfDoneOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<long[]>> results = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                results.add(pool.submit(() -> {
                    long[] sums = new long[2];
                    for (int i = 0; i < 20_000; i++) {
                        int v = i;
                        HELPER.runPair(() -> sums[0] += v, () -> sums[1] += v);
                    }
                    return sums;
                }));
            }
            long expected = 20_000L * 19_999 / 2;
            for (Future<long[]> f : results) {
                assertArrayEquals(new long[] {expected, expected}, f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theHelperParksWhenIdleAndWakesForTheNextJob() throws Exception {
        Thread.sleep(SpinningHelper.SPIN_NANOS / 1_000_000 + 20);
        int[] hit = new int[1];
        HELPER.runPair(() -> { }, () -> hit[0] = 1);
        assertEquals(1, hit[0]);
    }
}
