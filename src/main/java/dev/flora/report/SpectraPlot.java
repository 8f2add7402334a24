package dev.flora.report;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Normalized singular values σᵢ/σ₁ against i/min(in, out), one line per series, log y, as a PNG (XChart). */
public final class SpectraPlot {
    private final String title;
    private final Map<String, double[][]> series = new LinkedHashMap<>();

    public SpectraPlot(String title) {
        this.title = title;
    }

    /** A line through the points (x[j], y[j]); y must be positive (log axis). */
    public SpectraPlot line(String name, double[] x, double[] y) {
        series.put(name, new double[][] {x.clone(), y.clone()});
        return this;
    }

    public void write(Path png) {
        XYChart chart = Charts.xy(title, "i / min(in, out)", "sigma_i / sigma_1");
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setXAxisDecimalPattern("0.00");
        series.forEach((name, xy) -> {
            XYSeries s = chart.addSeries(name, xy[0], xy[1]);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
            s.setMarker(SeriesMarkers.NONE);
        });
        Charts.writePng(chart, png);
    }
}
