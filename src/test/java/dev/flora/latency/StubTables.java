package dev.flora.latency;

import dev.flora.space.SearchSpace;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Latency tables with numbers chosen here rather than measured, so the tests that use them are
 * deterministic: a module's dense forward costs rows·in·out·1e-6 ms, its factors
 * rows·r·(in + out)·1e-6 ms plus 0.002 ms for the second GEMM's launch (so a high rank is slower
 * than dense, as on real machines), and the rest of the model 1 ms.
 */
public final class StubTables {
    public static final double OVERHEAD_MS = 1.0;
    public static final double LAUNCH_MS = 0.002;

    private StubTables() {
    }

    public static LatencyTable of(SearchSpace space, Machine machine, int batch) {
        Map<String, LatencyTable.Module> modules = new LinkedHashMap<>();
        for (int b = 0; b < space.depth(); b++) {
            for (int t = 0; t < space.targets().size(); t++) {
                boolean tail = b == space.depth() - 1 && !space.targets().get(t).equals("attn.qkv");
                int rows = batch * (tail ? space.config().prefixTokens() : space.config().tokens());
                int in = space.inFeatures(t);
                int out = space.outFeatures(t);
                TreeMap<Integer, Measurement> ranks = new TreeMap<>();
                for (int r : space.ranks(t)) {
                    ranks.put(r, ms(rows * (double) r * (in + out) * 1e-6 + LAUNCH_MS));
                }
                modules.put(space.modulePath(b, t), new LatencyTable.Module(in, out, rows,
                        ms(rows * (double) in * out * 1e-6), ranks));
            }
        }
        return new LatencyTable(LatencyTable.FORMAT, machine, "stub", batch, space.config().tokens(),
                new LatencyTable.Timing(0.01, 0.05, 0, 0.2, 3), ms(10), OVERHEAD_MS, modules, Map.of(), List.of(), null);
    }

    /** This machine's key on a backend named {@code backend}. */
    public static Machine here(dev.flora.engine.backend.Backend backend) {
        return Machine.of(backend);
    }

    private static Measurement ms(double v) {
        return new Measurement(v, 0.01, 5);
    }
}
