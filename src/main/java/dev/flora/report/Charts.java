package dev.flora.report;

import dev.flora.engine.io.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/** The one chart size and the PNG writing that every plot of the reports shares. */
final class Charts {
    private Charts() {
    }

    /** An empty 900 × 600 chart, drawn without a display (CI and servers have none). */
    static XYChart xy(String title, String xTitle, String yTitle) {
        System.setProperty("java.awt.headless", "true");
        return new XYChartBuilder().width(900).height(600).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
    }

    /** {@code chart} as a PNG at {@code png}, written atomically. */
    static void writePng(XYChart chart, Path png) {
        // encoded in memory first: the encoder closes the stream it is given, and the channel must stay open
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            BitmapEncoder.saveBitmap(chart, bytes, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode the plot " + png, e);
        }
        AtomicFiles.writeBytes(png, bytes.toByteArray());
    }
}
