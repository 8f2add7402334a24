package dev.flora.pipeline;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.latency.LatencyMeter;
import dev.flora.latency.LatencyPredictor;
import dev.flora.latency.Measurement;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The latency part of a compress report: each compared model's latency at the latency table's
 * batch as the table predicts it and as measured here, end to end, with the table's timing loop.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record LatencyReport(@JsonProperty("table") String table, @JsonProperty("batch") int batch,
                     @JsonProperty("budget_ms") Double budgetMs, @JsonProperty("models") List<Row> models) {

    /** One model: its name in the report, predicted and measured milliseconds, and the measurement's spread. */
    record Row(@JsonProperty("model") String model, @JsonProperty("predicted_ms") double predictedMs,
               @JsonProperty("measured_ms") double measuredMs, @JsonProperty("spread") double spread) {
    }

    /** A model to time: its report name, its ranks (empty for dense) and the exported model itself. */
    record Subject(String name, Map<String, Integer> ranks, VisionTransformer model) {
    }

    static LatencyReport measure(LatencyPredictor p, String table, Double budgetMs, List<Subject> subjects,
                                 PrintStream out) {
        LatencyMeter meter = p.table().timing().models(subjects.get(0).model().backend());
        // timed together, their passes interleaved, so that the ratios compare like with like
        List<Measurement> measured = meter.timeAll(subjects.stream()
                .map(s -> meter.inference(s.model(), p.batch())).toList());
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < subjects.size(); i++) {
            Subject s = subjects.get(i);
            Measurement m = measured.get(i);
            Row r = new Row(s.name(), p.millis(s.ranks()), m.ms(), m.spread());
            rows.add(r);
            out.printf(Locale.ROOT, "latency at batch %d: %s predicted %.3f ms, measured %.3f ms%n", p.batch(), s.name(),
                    r.predictedMs(), r.measuredMs());
        }
        return new LatencyReport(table, p.batch(), budgetMs, rows);
    }

    String markdown() {
        double dense = models.get(0).measuredMs();
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "## Latency at batch %d%n%nPredicted by `%s`, measured here end to end "
                + "(the table's timing loop, all models in one: a low quantile of samples spread over interleaved "
                + "rounds).", batch, table));
        if (budgetMs != null) {
            md.append(String.format(Locale.ROOT, " Search budget: %.3f ms predicted (%.2f × the dense model's measured "
                    + "latency).", budgetMs, budgetMs / dense));
        }
        md.append("\n\n| model | predicted (ms) | measured (ms) | measured vs dense | spread |\n|---|---:|---:|---:|---:|\n");
        for (Row r : models) {
            md.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %.2f × | %.3f |%n", r.model(), r.predictedMs(),
                    r.measuredMs(), r.measuredMs() / dense, r.spread()));
        }
        return md.append('\n').toString();
    }
}
