package dev.flora.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The timing loop's passes and its figure; times themselves are not asserted. */
class LatencyMeterTest {
    @Test
    void passesAreInterleavedOverTheCallsTimedTogether() {
        List<Character> log = new ArrayList<>();
        try (CpuBackend cpu = new CpuBackend()) {
            LatencyMeter meter = new LatencyMeter(cpu, 0.03, 0.2, 3);
            List<Measurement> m = meter.timeAll(List.of(() -> spin(log, 'a'), () -> spin(log, 'b')));
            assertEquals(2, m.size());
            assertTrue(m.get(0).samples() >= LatencyMeter.FLOOR_SAMPLES && m.get(1).samples() >= 3, m.toString());
        }
        // runs of the same call: a, b, a, b, a, b (warm-up calls lead each call's first run)
        StringBuilder runs = new StringBuilder();
        for (int i = 0; i < log.size(); i++) {
            if (i == 0 || log.get(i) != log.get(i - 1)) {
                runs.append(log.get(i));
            }
        }
        assertEquals("ababab", runs.toString());
    }

    @Test
    void everyRoundTakesAnEqualShareOfEachCallsSamples() {
        List<Character> log = new ArrayList<>();
        int rounds = 5;
        try (CpuBackend cpu = new CpuBackend()) {
            new LatencyMeter(cpu, 0.05, 0.1, rounds).timeAll(List.of(() -> spin(log, 'a'), () -> spin(log, 'b')));
        }
        List<Integer> runsOfA = new ArrayList<>();
        for (int i = 0; i < log.size(); i++) {
            if (log.get(i) == 'a') {
                if (i == 0 || log.get(i - 1) != 'a') {
                    runsOfA.add(0);
                }
                runsOfA.set(runsOfA.size() - 1, runsOfA.get(runsOfA.size() - 1) + 1);
            }
        }
        assertEquals(rounds, runsOfA.size(), log.toString());
        // the first run also holds the warm-up calls; the others differ by rounding alone
        List<Integer> later = runsOfA.subList(1, rounds);
        int min = later.stream().mapToInt(Integer::intValue).min().orElseThrow();
        int max = later.stream().mapToInt(Integer::intValue).max().orElseThrow();
        assertTrue(min >= 10 && max - min <= 1, runsOfA.toString());
    }

    /** About 0.2 ms of work, so that one sample is one call. */
    private static void spin(List<Character> log, char id) {
        log.add(id);
        long end = System.nanoTime() + 200_000;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    @Test
    void theFigureIsTheChosenQuantileOfTheSamples() {
        double[] x = {5, 1, 4, 2, 3};
        assertEquals(1, LatencyMeter.quantile(x, 0));
        assertEquals(1.8, LatencyMeter.quantile(x, 0.2), 1e-12);
        assertEquals(3, LatencyMeter.quantile(x, 0.5), 1e-12);
        assertEquals(5, LatencyMeter.quantile(x, 1), 1e-12);
    }

    @Test
    void aQuantileOutsideZeroToOneOrNoRoundIsRefused() {
        try (CpuBackend cpu = new CpuBackend()) {
            assertThrows(IllegalArgumentException.class, () -> new LatencyMeter(cpu, 1, 1.5, 1));
            assertThrows(IllegalArgumentException.class, () -> new LatencyMeter(cpu, 1, 0.2, 0));
        }
    }
}
