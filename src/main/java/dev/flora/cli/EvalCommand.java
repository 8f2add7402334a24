package dev.flora.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.models.ModelInput;
import dev.flora.data.Split;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.latency.LatencyTable;
import dev.flora.latency.Measurement;
import dev.flora.models.ModelSource;
import dev.flora.train.Evaluator;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flora eval}: accuracy, loss, FLOPs and parameters of a model on a dataset split. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate a model: top-1, mean loss, image count, FLOPs (multiply-accumulates per image) "
                + "and parameter count.")
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = ModelSource.DEFAULT, paramLabel = "PATH|NAME",
            description = "A safetensors file, or the name of a bundled model or of a preset (randomly initialised; an "
                    + "unknown name lists them) (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--data", required = true, paramLabel = "DIR|NAME",
            description = "The images: " + Datasets.SPEC_HELP + ".")
    String data;

    @Option(names = "--split", defaultValue = "test", paramLabel = "train|val|test",
            description = "Which part to score (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--batch-size", defaultValue = "256", description = "Images per forward pass (default: "
            + "${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--num-heads", description = "Attention heads, for checkpoints whose metadata lacks num_heads.")
    Integer numHeads;

    @Option(names = "--latency-table", paramLabel = "FILE", description = "Also measure the inference latency at "
            + "this table's batch, as flora latency-table times it (the table must be from this machine and backend).")
    Path latencyTable;

    @Option(names = "--time-with", paramLabel = "PATH|NAME", description = "With --latency-table: further models "
            + "timed in the same interleaved loop as this one (repeatable), so that their latencies compare with "
            + "each other; reported as latency_with.")
    List<String> timeWith = new ArrayList<>();

    @Option(names = "--json", description = "Print one JSON line instead of text.")
    boolean json;

    @Mixin
    PreprocessingOptions preprocessing;

    @Mixin
    DeviceOption device;

    @Mixin
    PrecisionOption precision;

    @Override
    public Integer call() throws Exception {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("--batch-size must be positive, got " + batchSize);
        }
        Split which = Split.parse(split);
        PrintStream log = json ? System.err : System.out;
        Backend backend = device.create(log, precision.value());
        ModelSource.LoadedModel loaded = ModelSource.open(model, backend,
                numHeads == null ? OptionalInt.empty() : OptionalInt.of(numHeads), System.err::println);
        VisionTransformer vit = loaded.model();
        ModelInput input = ModelInput.of(loaded, preprocessing.overrides(), System.err::println);
        ImageSource images = Datasets.load(data, which);
        if (!timeWith.isEmpty() && latencyTable == null) {
            throw new IllegalArgumentException("--time-with needs --latency-table (the timing loop it shares)");
        }
        List<VisionTransformer> others = new ArrayList<>();
        for (String w : timeWith) {
            others.add(ModelSource.open(w, backend, OptionalInt.empty(), System.err::println).model());
        }
        LatencyTable table = latencyTable == null ? null : LatencyTable.read(latencyTable); // a bad one fails first
        if (table != null) {
            table.requireMachine(dev.flora.latency.Machine.of(backend), latencyTable);
        }
        Evaluator.Result r = Evaluator.evaluate(vit, input, images, batchSize);
        long flops = vit.macsPerImage();
        long executed = vit.executedMacsPerImage();
        long params = vit.parameterCount();
        List<VisionTransformer> timed = new ArrayList<>(List.of(vit));
        timed.addAll(others);
        List<Measurement> latencies = table == null ? List.of() : table.measureTogether(timed, latencyTable);
        Measurement latency = table == null ? null : latencies.get(0);
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("top1", 100 * r.top1());
            o.put("loss", r.loss());
            o.put("count", r.count());
            o.put("flops", flops);
            o.put("executed_macs", executed);
            o.put("params", params);
            if (latency != null) {
                o.put("latency_ms", latency.ms());
                o.put("latency_spread", latency.spread());
                o.put("latency_batch", table.batch());
                if (!others.isEmpty()) {
                    var with = o.putArray("latency_with");
                    for (int i = 0; i < others.size(); i++) {
                        with.addObject().put("model", timeWith.get(i)).put("latency_ms", latencies.get(i + 1).ms())
                                .put("latency_spread", latencies.get(i + 1).spread());
                    }
                }
            }
            System.out.println(o);
        } else {
            System.out.printf(Locale.ROOT, "model   %s%n", model);
            System.out.printf(Locale.ROOT, "data    %s (%s split)%n", data, which.name().toLowerCase(Locale.ROOT));
            System.out.printf(Locale.ROOT, "top-1   %.2f %%%n", 100 * r.top1());
            System.out.printf(Locale.ROOT, "loss    %.4f%n", r.loss());
            System.out.printf(Locale.ROOT, "images  %d%n", r.count());
            System.out.printf(Locale.ROOT, "FLOPs   %,d multiply-accumulates per image (%.1f M)%n", flops, flops / 1e6);
            System.out.printf(Locale.ROOT, "runs    %,d of them (the last block on the class token only)%n", executed);
            System.out.printf(Locale.ROOT, "params  %,d%n", params);
            if (latency != null) {
                System.out.printf(Locale.ROOT, "latency %.3f ms at batch %d (%.2f-quantile; spread %.3f)%n",
                        latency.ms(), table.batch(), table.timing().quantile(), latency.spread());
                for (int i = 0; i < others.size(); i++) {
                    System.out.printf(Locale.ROOT, "        %.3f ms for %s, timed in the same loop%n",
                            latencies.get(i + 1).ms(), timeWith.get(i));
                }
            }
        }
        return 0;
    }
}
