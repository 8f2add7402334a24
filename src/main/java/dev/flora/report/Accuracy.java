package dev.flora.report;

import java.util.Locale;

/**
 * The noise in an accuracy, so that a summary comparing two of them can say whether the
 * difference is larger than it. A top-1 on n images is a mean of n 0/1 outcomes: its standard
 * error is √(p(1−p)/n). Two models scored on the same images are compared image by image (the
 * paired standard error of the mean of their per-image differences), which is far smaller than
 * the two errors added: most images are right, or wrong, for both.
 */
public final class Accuracy {
    /** The two-sided 95 % normal quantile. */
    static final double Z95 = 1.959963984540054;

    private Accuracy() {
    }

    /** The standard error, in points, of a top-1 of {@code top1Percent} % on {@code n} images. */
    public static double standardErrorPoints(double top1Percent, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("an accuracy needs at least one image, got " + n);
        }
        double p = top1Percent / 100;
        return 100 * Math.sqrt(Math.max(0, p * (1 - p)) / n);
    }

    /**
     * A difference between two accuracies, in points, with its standard error in points.
     *
     * @param points        a minus b
     * @param standardError of that difference
     */
    public record Difference(double points, double standardError) {
        /** The 95 % confidence interval's lower end. */
        public double low() {
            return points - Z95 * standardError;
        }

        /** The 95 % confidence interval's upper end. */
        public double high() {
            return points + Z95 * standardError;
        }

        /** Whether the 95 % interval excludes zero. */
        public boolean significant() {
            return low() > 0 || high() < 0;
        }

        /** "+0.35 points (SE 0.21, 95 % CI −0.06 to +0.76)". */
        public String describe() {
            return String.format(Locale.ROOT, "%+.2f points (SE %.2f, 95 %% CI %+.2f to %+.2f)", points, standardError,
                    low(), high());
        }
    }

    /**
     * The paired difference of two models' correctness on the same images: per image, a's
     * outcome minus b's (each 1 or 0), their mean and its standard error.
     */
    public static Difference paired(boolean[] a, boolean[] b) {
        if (a.length != b.length || a.length < 2) {
            throw new IllegalArgumentException("paired outcomes need the same images, at least two, got " + a.length
                    + " and " + b.length);
        }
        int n = a.length;
        long sum = 0;
        long discordant = 0;
        for (int i = 0; i < n; i++) {
            int d = (a[i] ? 1 : 0) - (b[i] ? 1 : 0);
            sum += d;
            discordant += d * d;
        }
        double mean = (double) sum / n;
        // sample variance of the per-image differences: (Σd² − n·mean²) / (n − 1)
        double var = Math.max(0, (discordant - n * mean * mean) / (n - 1));
        return new Difference(100 * mean, 100 * Math.sqrt(var / n));
    }

    /** Two accuracies on independent image sets (or where the outcomes were not kept). */
    public static Difference unpaired(double aPercent, int na, double bPercent, int nb) {
        double sa = standardErrorPoints(aPercent, na);
        double sb = standardErrorPoints(bPercent, nb);
        return new Difference(aPercent - bPercent, Math.sqrt(sa * sa + sb * sb));
    }

    /**
     * The mean of figures repeated over seeds, their sample standard deviation (0 for a single
     * figure) and the standard error of the mean.
     */
    public record MeanStd(double mean, double std, int n) {
        public static MeanStd of(double... x) {
            if (x.length == 0) {
                throw new IllegalArgumentException("a mean needs at least one figure");
            }
            double m = 0;
            for (double v : x) {
                m += v;
            }
            m /= x.length;
            double ss = 0;
            for (double v : x) {
                ss += (v - m) * (v - m);
            }
            return new MeanStd(m, x.length > 1 ? Math.sqrt(ss / (x.length - 1)) : 0, x.length);
        }

        public double standardError() {
            return std / Math.sqrt(n);
        }

        /** "90.53 ± 0.12" (the standard deviation). */
        public String describe() {
            return String.format(Locale.ROOT, "%.2f ± %.2f", mean, std);
        }
    }
}
