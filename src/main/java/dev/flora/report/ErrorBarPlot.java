package dev.flora.report;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Means with error bars (XChart), one line per series, as a PNG: the ablation's test top-1 over
 * its seeds, mean ± standard deviation at each FLOPs target.
 */
public final class ErrorBarPlot {
    /** One point: the mean of some values at x and the half-length of its bar. */
    public record Point(double x, double mean, double bar) {
    }

    private final String title;
    private final String xTitle;
    private final String yTitle;
    private final Map<String, List<Point>> series = new LinkedHashMap<>();

    public ErrorBarPlot(String title, String xTitle, String yTitle) {
        this.title = title;
        this.xTitle = xTitle;
        this.yTitle = yTitle;
    }

    /** Adds a point to the series {@code name} (series keep the order they are first named in). */
    public ErrorBarPlot add(String name, Point p) {
        series.computeIfAbsent(name, k -> new ArrayList<>()).add(p);
        return this;
    }

    public void write(Path png) {
        XYChart chart = Charts.xy(title, xTitle, yTitle);
        chart.getStyler().setMarkerSize(6);
        series.forEach((name, pts) -> {
            List<Point> sorted = pts.stream().sorted(java.util.Comparator.comparingDouble(Point::x)).toList();
            XYSeries s = chart.addSeries(name, sorted.stream().mapToDouble(Point::x).toArray(),
                    sorted.stream().mapToDouble(Point::mean).toArray(),
                    sorted.stream().mapToDouble(Point::bar).toArray());
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            s.setMarker(SeriesMarkers.CIRCLE);
        });
        Charts.writePng(chart, png);
    }
}
