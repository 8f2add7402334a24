package dev.flora.cli;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.io.WeightDtype;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.search.EvolutionarySearch;
import dev.flora.search.SearchRunner;
import dev.flora.space.Candidate;
import dev.flora.latency.LatencyPredictor;
import dev.flora.space.CostModel;
import dev.flora.space.FactorizationRule;
import dev.flora.space.FlopsBounds;
import dev.flora.supernet.SubnetExport;
import dev.flora.supernet.Supernet;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flora export}: a subnet of a supernet as a standalone safetensors model. */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Export a subnet as a standalone model: factorized where that saves FLOPs (or, with "
                + "--latency-table, time), the dense product where it does not. flora eval and the Java API load it like any checkpoint.")
public final class ExportCommand implements Callable<Integer> {
    @Option(names = "--supernet", required = true, paramLabel = "FILE", description = "The supernet.")
    Path supernet;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    static final class Which {
        @Option(names = "--search", paramLabel = "DIR", description = "Take the best architecture of this search run.")
        Path search;

        @Option(names = "--arch", paramLabel = "CODE", description = "An architecture code (ratio indices, e.g. "
                + "6:6:6|0:3:2|...).")
        String arch;

        @Option(names = "--uniform-at-flops", paramLabel = "F", description = "The uniform-rank subnet with the most "
                + "FLOPs not above F (fraction of dense or count).")
        String uniformAt;
    }

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output safetensors file.")
    Path out;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|bf16", converter = WeightDtypeConverter.class,
            description = "Number format of the stored weights: f32, or bf16 (half the file, rounded to nearest even; "
                    + "every loader of this project and timm's read it) (default: ${DEFAULT-VALUE}).")
    WeightDtype dtype;

    /** picocli's converter for {@link WeightDtype}, so that a bad value gets its message. */
    static final class WeightDtypeConverter implements picocli.CommandLine.ITypeConverter<WeightDtype> {
        @Override
        public WeightDtype convert(String value) {
            return WeightDtype.parse(value);
        }
    }

    @Option(names = "--latency-table", paramLabel = "FILE", description = "Factorize a module only where this "
            + "table (flora latency-table, measured here) timed its factors faster than the dense layer.")
    Path latencyTable;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() {
        Backend backend = device.create(System.out);
        Supernet net = Supernet.load(supernet, backend);
        CostModel cost = new CostModel(net.space());
        Map<String, Integer> ranks;
        String code;
        if (which.uniformAt != null) {
            long f = FlopsBounds.parse(which.uniformAt, CostModel.denseMacs(net.space().config()), "--uniform-at-flops");
            try {
                ranks = cost.uniformAtMost(f);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--uniform-at-flops " + which.uniformAt + ": " + e.getMessage(), e);
            }
            code = "uniform";
        } else {
            Candidate c = which.arch != null ? parseArch(which.arch)
                    : EvolutionarySearch.readState(which.search.resolve(SearchRunner.STATE)).best().candidate();
            if (!net.space().allows(c)) {
                throw new IllegalArgumentException("architecture " + c + " is not in the supernet's search space");
            }
            ranks = net.space().ranks(c);
            code = c.encode();
        }
        FactorizationRule rule = latencyTable == null ? FactorizationRule.FEWER_FLOPS
                : LatencyPredictor.open(latencyTable, net.space(), backend);
        VisionTransformer model = SubnetExport.export(net, ranks, rule);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("flora.kind", code.equals("uniform") ? "uniform" : "flora");
        meta.put("flora.arch", code);
        meta.put("flora.supernet", supernet.toString());
        meta.putAll(net.input().metadata());
        ModelIO.save(model, out, meta, dtype);
        System.out.printf(Locale.ROOT, "exported %s: %.2fM FLOPs (%.1f %% of dense; runs %.1f %% of dense's "
                        + "multiply-adds), %,d params -> %s%n", code,
                model.macsPerImage() / 1e6, 100.0 * model.macsPerImage() / CostModel.denseMacs(model.config()),
                100.0 * model.executedMacsPerImage() / CostModel.denseExecutedMacs(model.config()), model.parameterCount(), out);
        return 0;
    }

    private static Candidate parseArch(String s) {
        try {
            return Candidate.decode(s);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--arch '" + s + "' is not an architecture code (" + e.getMessage()
                    + ")");
        }
    }
}
