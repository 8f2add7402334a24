package dev.flora.engine.reference;

import java.util.function.ToDoubleFunction;

/** Central finite differences of a scalar function of a double vector. */
public final class FiniteDifference {
    private FiniteDifference() {
    }

    /** d f / d x[i] for every i, with step h (perturbs x in place and restores it). */
    public static double[] gradient(double[] x, ToDoubleFunction<double[]> f, double h) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + h;
            double up = f.applyAsDouble(x);
            x[i] = keep - h;
            double down = f.applyAsDouble(x);
            x[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }
}
