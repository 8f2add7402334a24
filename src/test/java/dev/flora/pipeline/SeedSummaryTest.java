package dev.flora.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The statistics of the ablation's seed summary against figures worked by hand. */
class SeedSummaryTest {
    @Test
    void meanSampleStdAndTIntervalOfThreeSeeds() {
        SeedSummary.Figure f = new SeedSummary.Figure("subnet", "lrat", 0.4, List.of(89.0, 90.0, 91.0));
        assertEquals(90.0, f.mean(), 1e-12);
        assertEquals(1.0, f.std(), 1e-12); // sqrt((1 + 0 + 1) / 2)
        assertEquals(4.303 / Math.sqrt(3), f.halfWidth95(), 1e-12);
    }

    @Test
    void oneSeedHasNoSpreadAndNoInterval() {
        SeedSummary.Figure f = new SeedSummary.Figure("subnet", "lrat", 0.4, List.of(89.5));
        assertEquals(0, f.std());
        assertTrue(Double.isNaN(f.halfWidth95()));
    }

    @Test
    void tQuantilesFallToTheNormalOnesForManySeeds() {
        assertEquals(12.706, SeedSummary.t95(1));
        assertEquals(2.228, SeedSummary.t95(10));
        assertEquals(1.96, SeedSummary.t95(30));
    }
}
