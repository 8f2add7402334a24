package dev.flora.search;

import dev.flora.data.ImageSource;
import dev.flora.supernet.Supernet;
import dev.flora.train.Evaluator;

/**
 * The dense teacher's logits on the validation images, computed once per search and kept on the
 * CPU side (images × classes floats), and the KL divergence of a subnet's logits from them. The
 * teacher is the supernet's largest subnet, the dense-equivalent that in-place distillation
 * trained every subnet towards.
 */
final class TeacherLogits {
    private final float[] logits;
    private final int classes;

    private TeacherLogits(float[] logits, int classes) {
        this.logits = logits;
        this.classes = classes;
    }

    /** Runs the largest subnet of {@code supernet} over {@code val}; leaves the supernet at its largest subnet. */
    static TeacherLogits of(Supernet supernet, ImageSource val, int batchSize) {
        int classes = supernet.model().config().numClasses();
        long floats = (long) val.count() * classes;
        if (floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(val.name() + ": " + val.count() + " validation images × " + classes
                    + " classes are too many teacher logits to keep for fitness kl; set val_limit");
        }
        float[] logits = new float[(int) floats];
        supernet.apply(supernet.largest());
        Evaluator.evaluate(supernet.model(), supernet.input(), val, batchSize,
                (batch, labels, n, first) -> supernet.model().backend().download(batch, logits, first * classes));
        return new TeacherLogits(logits, classes);
    }

    int classes() {
        return classes;
    }

    /**
     * Σ over images {@code first .. first + n - 1} of KL(teacher || subnet), in nats, from the
     * subnet's logits of those images ({@code student[i * classes + k]}). Identical logits give
     * exactly 0: both sides go through the same arithmetic.
     */
    double klSum(float[] student, int first, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            int t = (first + i) * classes;
            int s = i * classes;
            double logZt = logSumExp(logits, t);
            double logZs = logSumExp(student, s);
            for (int k = 0; k < classes; k++) {
                double logPt = logits[t + k] - logZt;
                double logPs = student[s + k] - logZs;
                sum += Math.exp(logPt) * (logPt - logPs);
            }
        }
        return sum;
    }

    private double logSumExp(float[] x, int offset) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < classes; k++) {
            max = Math.max(max, x[offset + k]);
        }
        double sum = 0;
        for (int k = 0; k < classes; k++) {
            sum += Math.exp(x[offset + k] - max);
        }
        return max + Math.log(sum);
    }
}
