package dev.flora.supernet;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.ChoiceLinear;
import dev.flora.engine.nn.LinearLayer;
import dev.flora.engine.nn.LinearSpec;
import dev.flora.engine.nn.Linear;
import dev.flora.engine.nn.LowRankLinear;
import dev.flora.engine.nn.Param;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import dev.flora.space.FactorizationRule;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns a subnet of a supernet into a standalone model: each target module at its rank r is
 * stored factorized (VT [r, in], U [out, r]) where that costs fewer multiply-accumulates than
 * the dense matrix, and as the dense product W = U[:, :r] · VT[:r] where it does not; or, under a
 * latency table, where its factors ran faster than the dense layer ({@link FactorizationRule}).
 * Everything else is copied. The result loads with {@code ModelIO} like any timm checkpoint.
 */
public final class SubnetExport {
    private SubnetExport() {
    }

    /** The subnet at {@code ranks}, factorized where that saves FLOPs. */
    public static VisionTransformer export(Supernet supernet, Map<String, Integer> ranks) {
        return export(supernet, ranks, FactorizationRule.FEWER_FLOPS);
    }

    /** The subnet at {@code ranks}, factorized where {@code rule} says so. */
    public static VisionTransformer export(Supernet supernet, Map<String, Integer> ranks, FactorizationRule rule) {
        supernet.applyRanks(ranks);
        VisionTransformer src = supernet.model();
        Backend backend = src.backend();
        Map<String, LinearSpec> specs = new LinkedHashMap<>();
        ranks.forEach((path, r) -> {
            LinearLayer l = src.linears().get(path);
            if (!(l instanceof Linear) && rule.factorize(path, l.inFeatures(), l.outFeatures(), r)) {
                specs.put(path, new LinearSpec.LowRank(r));
            }
        });
        VisionTransformer out = new VisionTransformer(backend, src.config(), specs);
        // everything but the factorized modules of the supernet copies over by name
        java.util.Set<String> factorized = new java.util.HashSet<>();
        ranks.keySet().stream().filter(path -> !(src.linears().get(path) instanceof Linear)).forEach(factorized::add);
        for (Param p : out.arena().params()) {
            boolean target = factorized.stream().anyMatch(path -> p.name().startsWith(path + "."));
            if (!target) {
                backend.copy(src.arena().get(p.name()).value(), p.value());
            }
        }
        for (String path : factorized) {
            LowRankLinear from = activeFactors(src.linears().get(path));
            int r = from.rank();
            int in = from.inFeatures();
            int outF = from.outFeatures();
            LinearLayer to = out.linears().get(path);
            if (to instanceof LowRankLinear l) {
                backend.copy(from.vt().value().head((long) r * in), l.vt().value());
                backend.copy2d(from.u().value(), from.maxRank(), l.u().value(), r, outF, r);
                backend.copy(from.bias().value(), l.bias().value());
            } else {
                Linear d = (Linear) to;
                Tensor w = d.weight().value();
                // W [out, in] = U[:, :r] (ld R) · VT[:r, :]
                backend.gemm(false, false, outF, in, r, 1f, from.u().value(), from.maxRank(), from.vt().value(), in, 0f,
                        w, in);
                backend.copy(from.bias().value(), d.bias().value());
            }
        }
        return out;
    }

    /** The factors a target module computes with at its current rank. */
    private static LowRankLinear activeFactors(LinearLayer l) {
        if (l instanceof LowRankLinear lr) {
            return lr;
        }
        return ((ChoiceLinear) l).activeChoice();
    }
}
