package dev.flora.latency;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.FormatException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * A latency table (the JSON file {@code flora latency-table} writes): for one machine, backend,
 * thread count and serving batch, the forward time of every target module of a search space,
 * dense and at every rank the space uses, at the rows that module really sees; the end-to-end
 * time of the dense model; the rest of the model timed as parts; the calibrated fixed overhead
 * (what the modules and parts timed alone miss); and, when checked, the predictor's error on
 * random subnets.
 *
 * @param overheadMs  what a forward costs beyond its target modules and {@code parts}: calibrated
 *                    as a difference, the median over the dense model and random subnets of
 *                    measured − Σ module times − Σ parts' rest (hand-offs between the parts, weights
 *                    cold in the cache inside a whole forward); it may be negative
 * @param parts       the rest of the model (see {@link Part}); empty in a table without them
 * @param calibration the models that overhead was calibrated on (their prediction is with it)
 * @param check       random subnets predicted and then measured; null until checked
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LatencyTable(@JsonProperty("format") String format, @JsonProperty("machine") Machine machine,
                           @JsonProperty("model") String model, @JsonProperty("batch") int batch,
                           @JsonProperty("tokens") int tokens, @JsonProperty("timing") Timing timing,
                           @JsonProperty("dense") Measurement dense,
                           @JsonProperty("overhead_ms") double overheadMs,
                           @JsonProperty("modules") Map<String, Module> modules,
                           @JsonProperty("parts") Map<String, Part> parts,
                           @JsonProperty("calibration") List<Point> calibration,
                           @JsonProperty("check") Check check) {
    /**
     * Version 3: every figure's samples are spread over the whole loop (version 2: a few long
     * passes, each ended early once its samples agreed; version 1: the median of one pass).
     */
    public static final String FORMAT = "flora-latency-table/3";
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true);

    /**
     * How the figures were timed ({@link LatencyMeter}): after {@code warmupSeconds} of dense
     * forwards (the JIT compiles the engine's loops for seconds), {@code moduleSeconds} of samples
     * per module and rank ({@code modelSeconds} per whole model) spread over {@code rounds}
     * interleaved passes; the figure is the {@code quantile} of the samples. Measurements
     * against the table use the same loop.
     */
    public record Timing(@JsonProperty("module_seconds") double moduleSeconds,
                         @JsonProperty("model_seconds") double modelSeconds,
                         @JsonProperty("warmup_seconds") double warmupSeconds,
                         @JsonProperty("quantile") double quantile,
                         @JsonProperty("rounds") int rounds) {
        public Timing {
            if (!(moduleSeconds > 0) || !(modelSeconds > 0) || !(warmupSeconds >= 0)
                    || !(quantile >= 0 && quantile <= 1) || rounds < 1) {
                throw new IllegalArgumentException("module_seconds and model_seconds must be positive, "
                        + "warmup_seconds not negative, quantile in [0, 1] and rounds at least 1, got " + moduleSeconds + ", " + modelSeconds + ", " + warmupSeconds + ", " + quantile + ", "
                        + rounds);
            }
        }

        /** The timing loop for single modules. */
        public LatencyMeter modules(dev.flora.engine.backend.Backend backend) {
            return new LatencyMeter(backend, moduleSeconds, quantile, rounds);
        }

        /** The timing loop for whole models. */
        public LatencyMeter models(dev.flora.engine.backend.Backend backend) {
            return new LatencyMeter(backend, modelSeconds, quantile, rounds);
        }
    }

    /**
     * One target module: its shape, the rows it sees at the table's batch (batch × tokens, or
     * batch alone for the class-token tail of the last block), its forward time dense and
     * factorized at each rank, and the ranks at which the subnets are laid out factorized
     * ({@code factorized}; null: wherever the factorized time is below the dense one).
     */
    public record Module(@JsonProperty("in") int in, @JsonProperty("out") int out, @JsonProperty("rows") int rows,
                         @JsonProperty("dense") Measurement dense,
                         @JsonProperty("ranks") SortedMap<Integer, Measurement> ranks,
                         @JsonProperty("factorized") java.util.SortedSet<Integer> factorized) {
        /** A module whose layout follows its times (factorized wherever that is faster). */
        public Module(int in, int out, int rows, Measurement dense, SortedMap<Integer, Measurement> ranks) {
            this(in, out, rows, dense, ranks, null);
        }

        /**
         * This module with the ranks at which the subnets are laid out factorized: decided once,
         * where the factors ran faster than the dense layer in a first timing, and kept, so that
         * the subnets timed for the table, the predictor's prices and the export agree on it even
         * where a later timing of a near tie comes out the other way.
         */
        public Module withFactorized(java.util.SortedSet<Integer> ranks) {
            return new Module(in, out, rows, dense, this.ranks, ranks);
        }
    }

    /**
     * A part of the forward that no rank changes, timed at the table's batch as the model runs it:
     * {@code embedding} (patch embedding, class token and position embedding), {@code block} (a
     * dense block at every token, {@code count} = the blocks before the last), {@code last_block}
     * (the last block's class-token pass) and {@code head} (final norm and classifier). A block's
     * time includes its target modules, dense: {@code targetsMs} is their sum in the table, and
     * {@link #restMs} what is left (attention products and softmax, norms, GELU, attn.proj when it
     * is not a target).
     */
    public record Part(@JsonProperty("count") int count, @JsonProperty("time") Measurement time,
                       @JsonProperty("targets_ms") double targetsMs) {
        /** The part's own milliseconds, beyond the target modules it contains. */
        public double restMs() {
            return time.ms() - targetsMs;
        }
    }

    /** Σ count × rest over the parts: what the table times of the forward beyond its target modules. */
    public double partsMillis() {
        return parts == null ? 0 : parts.values().stream().mapToDouble(p -> p.count() * p.restMs()).sum();
    }

    /** A subnet predicted and measured end to end; error = (predicted − measured) / measured, in percent. */
    public record Point(@JsonProperty("arch") String arch, @JsonProperty("predicted_ms") double predictedMs,
                        @JsonProperty("measured_ms") double measuredMs, @JsonProperty("spread") double spread,
                        @JsonProperty("error_pct") double errorPct) {
        public static Point of(String arch, double predicted, Measurement measured) {
            return new Point(arch, predicted, measured.ms(), measured.spread(),
                    100 * (predicted - measured.ms()) / measured.ms());
        }
    }

    /** The predictor's accuracy on {@code points}: median and worst absolute percentage error. */
    public record Check(@JsonProperty("median_abs_error_pct") double medianAbsErrorPct,
                        @JsonProperty("worst_abs_error_pct") double worstAbsErrorPct,
                        @JsonProperty("points") List<Point> points) {
        public static Check of(List<Point> points) {
            double[] abs = points.stream().mapToDouble(p -> Math.abs(p.errorPct())).toArray();
            return new Check(LatencyMeter.median(abs), java.util.Arrays.stream(abs).max().orElse(0), List.copyOf(points));
        }
    }

    /** This table with its accuracy check. */
    public LatencyTable withCheck(Check c) {
        return new LatencyTable(format, machine, model, batch, tokens, timing, dense, overheadMs, modules, parts,
                calibration,
                c);
    }

    /** Refuses a table measured under another key than {@code here}'s, naming the first difference. */
    public void requireMachine(Machine here, Path file) {
        machine.difference(here).ifPresent(d -> {
            throw new FormatException(file + ": latency table measured on another machine or backend (" + d
                    + "); build one here with flora latency-table");
        });
    }

    /**
     * {@code m}'s inference latency here, at this table's batch with its warm-up and timing loop,
     * so that it compares with the table's figures; refused on another machine ({@code file} names the table).
     */
    public Measurement measure(dev.flora.engine.nn.VisionTransformer m, Path file) {
        return measureTogether(List.of(m), file).get(0);
    }

    /**
     * The latencies of {@code models} timed in one interleaved loop (as the table's own figures
     * are): on a host whose speed changes from second to second, figures of models timed one after
     * another, or in processes minutes apart, carry those changes; timed together they compare.
     */
    public List<Measurement> measureTogether(List<dev.flora.engine.nn.VisionTransformer> models, Path file) {
        LatencyMeter meter = timing.models(models.get(0).backend());
        for (var m : models) {
            requireMachine(Machine.of(m.backend()), file);
        }
        meter.warmUp(models.get(0), batch, timing.warmupSeconds());
        return meter.timeAll(models.stream().map(m -> meter.inference(m, batch)).toList());
    }

    public static LatencyTable read(Path file) {
        LatencyTable t;
        try {
            // the format first: an older table's fields would otherwise be refused as unknown ones
            JsonNode tree = JSON.readTree(file.toFile());
            JsonNode format = tree == null ? null : tree.get("format");
            if (format != null && format.isTextual() && format.asText().startsWith("flora-latency-table/")
                    && !FORMAT.equals(format.asText())) {
                throw new FormatException(file + ": a latency table of format " + FormatException.oneLine(format.asText())
                        + ", timed by an older flora-j; this one reads " + FORMAT
                        + ": measure it again with flora latency-table");
            }
            t = tree == null || tree.isMissingNode() ? null : JSON.treeToValue(tree, LatencyTable.class);
        } catch (FileNotFoundException | NoSuchFileException e) {
            throw new FormatException(file + ": latency table not found");
        } catch (JsonProcessingException e) {
            throw new FormatException(file + ": not a latency table (" + FormatException.oneLine(e.getOriginalMessage()) + ")");
        } catch (IOException e) {
            throw new FormatException(file + ": cannot read (" + e.getMessage() + ")");
        }
        if (t == null || !FORMAT.equals(t.format()) || t.machine() == null || t.timing() == null || t.modules() == null
                || t.dense() == null) {
            throw new FormatException(file + ": not a latency table (expected format " + FORMAT
                    + " with machine, timing, dense and modules)");
        }
        t.requireSane(file);
        return t;
    }

    /**
     * Refuses what no measurement writes, so that nothing downstream divides by it or prices a
     * subnet with it: a key with missing fields, a batch or token count below 1, a time that is
     * not a positive finite number, a module without its shape, dense time or ranks, a rank
     * outside 1..min(in, out).
     */
    private void requireSane(Path file) {
        String bad = null;
        if (machine.cpu() == null || machine.arch() == null || machine.backend() == null || machine.cores() < 1
                || machine.threads() < 1) {
            bad = "machine needs cpu, arch, backend and cores and threads of at least 1";
        } else if (batch < 1 || tokens < 1) {
            bad = "batch and tokens must be at least 1, got " + batch + " and " + tokens;
        } else if (!Double.isFinite(overheadMs)) {
            bad = "overhead_ms must be a finite number";
        } else if (!sane(dense)) {
            bad = "dense: " + SANE_MEASUREMENT;
        }
        for (var e : modules.entrySet()) {
            if (bad != null) {
                break;
            }
            Module m = e.getValue();
            if (m == null || m.in() < 1 || m.out() < 1 || m.rows() < 1 || m.ranks() == null || !sane(m.dense())) {
                bad = "module " + e.getKey() + " needs in, out and rows of at least 1, ranks, and dense: "
                        + SANE_MEASUREMENT;
                break;
            }
            if (m.factorized() != null && !m.ranks().keySet().containsAll(m.factorized())) {
                bad = "module " + e.getKey() + ": factorized names a rank the module has no time for";
                break;
            }
            for (var r : m.ranks().entrySet()) {
                if (r.getKey() < 1 || r.getKey() > Math.min(m.in(), m.out()) || !sane(r.getValue())) {
                    bad = "module " + e.getKey() + " rank " + r.getKey() + ": a rank of 1.." + Math.min(m.in(), m.out())
                            + " with " + SANE_MEASUREMENT;
                    break;
                }
            }
        }
        if (bad == null && parts != null) {
            for (var e : parts.entrySet()) {
                Part p = e.getValue();
                if (p == null || p.count() < 1 || !sane(p.time()) || !(p.targetsMs() >= 0)
                        || !Double.isFinite(p.targetsMs())) {
                    bad = "part " + e.getKey() + " needs a count of at least 1, targets_ms finite and not negative, "
                            + "and time: " + SANE_MEASUREMENT;
                    break;
                }
            }
        }
        if (bad != null) {
            throw new FormatException(file + ": not a latency table (" + bad + ")");
        }
    }

    private static final String SANE_MEASUREMENT = "ms a positive finite number, spread finite and not negative, "
            + "samples at least 1";

    private static boolean sane(Measurement m) {
        return m != null && m.ms() > 0 && Double.isFinite(m.ms()) && m.spread() >= 0 && Double.isFinite(m.spread())
                && m.samples() >= 1;
    }

    /** Writes the table as JSON, atomically. */
    public void write(Path file) {
        try {
            AtomicFiles.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(this) + "\n");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
