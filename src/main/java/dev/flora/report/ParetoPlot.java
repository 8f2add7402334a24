package dev.flora.report;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Accuracy against FLOPs as a PNG (XChart): scatter series and front lines. */
public final class ParetoPlot {
    private final String title;
    private final Map<String, List<ParetoFront.Point>> scatter = new LinkedHashMap<>();
    private final Map<String, List<ParetoFront.Point>> lines = new LinkedHashMap<>();

    public ParetoPlot(String title) {
        this.title = title;
    }

    /** Points drawn as markers only. */
    public ParetoPlot points(String name, List<ParetoFront.Point> pts) {
        if (!pts.isEmpty()) {
            scatter.put(name, pts);
        }
        return this;
    }

    /** Points joined by a line (a front, a uniform-rank curve). */
    public ParetoPlot line(String name, List<ParetoFront.Point> pts) {
        if (!pts.isEmpty()) {
            lines.put(name, pts);
        }
        return this;
    }

    public void write(Path png) {
        XYChart chart = Charts.xy(title, "FLOPs (M multiply-accumulates per image)", "top-1 (%)");
        chart.getStyler().setMarkerSize(6);
        scatter.forEach((name, pts) -> {
            XYSeries s = chart.addSeries(name, x(pts), y(pts));
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        });
        lines.forEach((name, pts) -> {
            XYSeries s = chart.addSeries(name, x(pts), y(pts));
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            s.setMarker(SeriesMarkers.CIRCLE);
        });
        Charts.writePng(chart, png);
    }

    private static double[] x(List<ParetoFront.Point> pts) {
        return pts.stream().mapToDouble(p -> p.flops() / 1e6).toArray();
    }

    private static double[] y(List<ParetoFront.Point> pts) {
        return pts.stream().mapToDouble(ParetoFront.Point::top1).toArray();
    }
}
