package dev.flora.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AccuracyTest {
    @Test
    void theStandardErrorOfATop1IsThatOfAMeanOfZerosAndOnes() {
        // 90 % on 10 000 images: sqrt(0.9 * 0.1 / 10000) = 0.003 -> 0.30 points
        assertEquals(0.30, Accuracy.standardErrorPoints(90, 10_000), 1e-12);
        assertEquals(0, Accuracy.standardErrorPoints(100, 50), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Accuracy.standardErrorPoints(90, 0));
    }

    @Test
    void aPairedDifferenceCountsOnlyTheImagesTheModelsDisagreeOn() {
        // 1000 images: both right on 880, a alone on 30, b alone on 20, both wrong on 70
        boolean[] a = new boolean[1000];
        boolean[] b = new boolean[1000];
        for (int i = 0; i < 880; i++) {
            a[i] = b[i] = true;
        }
        for (int i = 880; i < 910; i++) {
            a[i] = true;
        }
        for (int i = 910; i < 930; i++) {
            b[i] = true;
        }
        Accuracy.Difference d = Accuracy.paired(a, b);
        assertEquals(1.0, d.points(), 1e-9);
        // per-image differences: 30 of +1, 20 of -1, mean 0.01; variance (50 - 1000 * 1e-4) / 999
        assertEquals(100 * Math.sqrt((50 - 0.1) / 999 / 1000), d.standardError(), 1e-9);
        // far tighter than treating the two accuracies as independent
        assertTrue(d.standardError() < Accuracy.unpaired(91, 1000, 90, 1000).standardError() / 1.5);
        assertFalse(d.significant(), d.describe());
        assertEquals("+1.00 points (SE 0.71, 95 % CI -0.39 to +2.39)", d.describe());
    }

    @Test
    void aDifferenceWhoseIntervalExcludesZeroIsSignificant() {
        assertTrue(new Accuracy.Difference(1.0, 0.4).significant());
        assertTrue(new Accuracy.Difference(-1.0, 0.4).significant());
        assertFalse(new Accuracy.Difference(0.7, 0.4).significant());
        assertThrows(IllegalArgumentException.class, () -> Accuracy.paired(new boolean[3], new boolean[4]));
    }

    @Test
    void theMeanAndSampleStandardDeviationOverSeeds() {
        Accuracy.MeanStd m = Accuracy.MeanStd.of(90.0, 91.0, 92.0);
        assertEquals(91.0, m.mean(), 1e-12);
        assertEquals(1.0, m.std(), 1e-12);
        assertEquals(1 / Math.sqrt(3), m.standardError(), 1e-12);
        assertEquals("91.00 ± 1.00", m.describe());
        assertEquals(0, Accuracy.MeanStd.of(90.5).std());
        assertThrows(IllegalArgumentException.class, Accuracy.MeanStd::of);
    }
}
