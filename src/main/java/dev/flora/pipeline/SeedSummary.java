package dev.flora.pipeline;

import dev.flora.engine.io.AtomicFiles;
import dev.flora.report.ErrorBarPlot;
import dev.flora.report.ParetoFront;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The ablation's figures over its seeds: per method and target the mean test top-1 and its
 * standard deviation over the seeds, and per compared pair the mean paired difference with the
 * seed-to-seed spread of that difference and a 95 % t interval of its mean. A figure that a seed
 * lacks (no architecture in a target's window) counts over the seeds that have it.
 */
final class SeedSummary {
    /** Two-sided 95 % quantiles of Student's t for 1 to 10 degrees of freedom; 1.96 beyond. */
    private static final double[] T95 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228};

    /** One figure's values over the seeds that have it. */
    record Figure(String kind, String name, double target, List<Double> values) {
        double mean() {
            return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }

        /** Sample standard deviation over the seeds (n − 1), 0 for one seed. */
        double std() {
            int n = values.size();
            if (n < 2) {
                return 0;
            }
            double m = mean();
            return Math.sqrt(values.stream().mapToDouble(v -> (v - m) * (v - m)).sum() / (n - 1));
        }

        /** Half-width of the 95 % t interval of the mean; NaN for one seed. */
        double halfWidth95() {
            int n = values.size();
            return n < 2 ? Double.NaN : t95(n - 1) * std() / Math.sqrt(n);
        }
    }

    private final List<Figure> figures;

    private SeedSummary(List<Figure> figures) {
        this.figures = figures;
    }

    static SeedSummary of(List<Ablation.SeedResult> seeds) {
        Map<String, Figure> byKey = new LinkedHashMap<>();
        for (Ablation.SeedResult s : seeds) {
            for (Ablation.Row r : s.rows()) {
                add(byKey, "subnet", r.variant(), r.target(), r.testTop1());
            }
            for (ParetoFront.Point p : s.uniformMatched()) {
                add(byKey, "subnet", "uniform-matched", Double.parseDouble(p.label().replace("uniform at ", "")),
                        p.top1());
            }
            for (Ablation.Difference d : s.differences()) {
                add(byKey, "difference", d.a() + " vs " + d.b(), d.target(), d.points());
            }
        }
        return new SeedSummary(new ArrayList<>(byKey.values()));
    }

    private static void add(Map<String, Figure> byKey, String kind, String name, double target, double value) {
        String key = String.format(Locale.ROOT, "%s|%s|%.4f", kind, name, target);
        byKey.computeIfAbsent(key, k -> new Figure(kind, name, target, new ArrayList<>())).values().add(value);
    }

    List<Figure> figures() {
        return figures;
    }

    static double t95(int degreesOfFreedom) {
        return degreesOfFreedom <= T95.length ? T95[degreesOfFreedom - 1] : 1.96;
    }

    /** Plots each method's test top-1, mean ± standard deviation over the seeds, against its FLOPs target. */
    void plot(Path png) {
        ErrorBarPlot plot = new ErrorBarPlot("Test top-1 over " + seedCount() + " seeds (mean ± std)",
                "FLOPs target (% of dense)", "top-1 (%)");
        for (Figure f : figures) {
            if (f.kind().equals("subnet")) {
                plot.add(f.name(), new ErrorBarPlot.Point(100 * f.target(), f.mean(), f.std()));
            }
        }
        plot.write(png);
    }

    private int seedCount() {
        return figures.stream().mapToInt(f -> f.values().size()).max().orElse(0);
    }

    /** Writes the CSV and prints each difference over the seeds. */
    void write(Path csv, PrintStream out) {
        StringBuilder b = new StringBuilder("kind,name,target,seeds,mean,std,ci95_half_width,values\n");
        for (Figure f : figures) {
            b.append(String.format(Locale.ROOT, "%s,%s,%.2f,%d,%.3f,%.3f,%.3f,%s%n", f.kind(), f.name(), f.target(),
                    f.values().size(), f.mean(), f.std(), f.halfWidth95(), f.values().stream()
                            .map(v -> String.format(Locale.ROOT, "%.3f", v)).collect(Collectors.joining(" "))));
        }
        AtomicFiles.writeString(csv, b.toString());
        for (Figure f : figures) {
            if (f.kind().equals("difference")) {
                double lo = f.mean() - f.halfWidth95();
                double hi = f.mean() + f.halfWidth95();
                out.printf(Locale.ROOT, "over %d seeds, target %.2f: %s: %+.2f ± %.2f points (95 %% t interval %+.2f to "
                        + "%+.2f)%s%n", f.values().size(), f.target(), f.name(), f.mean(), f.std(), lo, hi,
                        f.values().size() < 2 ? "" : lo > 0 || hi < 0 ? ", larger than the seed spread"
                                : ", within the seed spread");
            }
        }
        out.println("seed summary written to " + csv);
    }
}
