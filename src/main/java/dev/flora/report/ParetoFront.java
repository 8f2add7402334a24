package dev.flora.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The accuracy/FLOPs Pareto front of a set of architectures: none has fewer FLOPs and higher accuracy. */
public final class ParetoFront {
    private ParetoFront() {
    }

    /** A scored architecture. */
    public record Point(String label, long flops, double top1) {
    }

    /** The non-dominated points, by increasing FLOPs (and so increasing accuracy). */
    public static List<Point> of(List<Point> points) {
        List<Point> sorted = new ArrayList<>(points);
        sorted.sort(Comparator.comparingLong(Point::flops).thenComparing(Comparator.comparingDouble(Point::top1)
                .reversed()));
        List<Point> front = new ArrayList<>();
        double best = Double.NEGATIVE_INFINITY;
        for (Point p : sorted) {
            if (p.top1() > best) {
                front.add(p);
                best = p.top1();
            }
        }
        return front;
    }

    /** The best accuracy reached at or below {@code flops} (NaN if nothing is that cheap). */
    public static double bestAtMost(List<Point> points, long flops) {
        return points.stream().filter(p -> p.flops() <= flops).mapToDouble(Point::top1).max().orElse(Double.NaN);
    }
}
