package dev.flora.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.cuda.Devices;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.space.Candidate;
import dev.flora.space.FactorizationRule;
import dev.flora.space.SearchSpace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The table file, the machine key, coverage of the space, and the predictor's pricing rule. */
class LatencyTableTest {
    @TempDir
    Path dir;

    private final SearchSpace space = SearchSpace.defaults(ViTConfig.vitFmnist(), false);
    private final Machine here = new Machine("Test CPU", 2, "amd64", "cpu", 2);

    @Test
    void aTableSurvivesTheRoundTripThroughItsFile() {
        LatencyTable t = StubTables.of(space, here, 32).withCheck(LatencyTable.Check.of(
                List.of(LatencyTable.Point.of("6:6:6", 2.0, new Measurement(2.1, 0.02, 9)))));
        Path f = dir.resolve("t.json");
        t.write(f);
        assertEquals(t, LatencyTable.read(f));
    }

    @Test
    void aTableFromAnotherMachineBackendOrThreadCountIsRefusedNamingTheDifference() {
        LatencyTable t = StubTables.of(space, here, 1);
        Path f = dir.resolve("t.json");
        t.requireMachine(here, f);
        for (Machine other : List.of(new Machine("Other CPU", 2, "amd64", "cpu", 2),
                new Machine("Test CPU", 2, "amd64", "cuda-emulated", 2), new Machine("Test CPU", 2, "amd64", "cpu", 1))) {
            FormatException e = assertThrows(FormatException.class, () -> t.requireMachine(other, f));
            assertTrue(e.getMessage().startsWith(f + ": latency table measured on another machine or backend"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        FormatException e = assertThrows(FormatException.class, () -> t.requireMachine(
                new Machine("Test CPU", 2, "amd64", "cpu", 1), f));
        assertTrue(e.getMessage().contains("2 threads, not 1"), e.getMessage());
    }

    @Test
    void thisMachinesKeyNamesItsBackend() {
        try (CpuBackend cpu = new CpuBackend(); CpuBackend inference = CpuBackend.fp32Inference()) {
            Machine m = Machine.of(cpu);
            // the backend inference runs on: a search on the training backend takes tables timed there
            assertEquals(CpuBackend.FP32_INFERENCE_NAME, m.backend());
            assertEquals(m, Machine.of(inference));
            assertTrue(m.cores() > 0 && m.threads() > 0 && !m.cpu().isBlank(), m.toString());
            System.setProperty(Devices.FP32_INFERENCE, "openblas");
            try {
                assertEquals(CpuBackend.TRAINING_NAME, Machine.of(cpu).backend());
            } finally {
                System.clearProperty(Devices.FP32_INFERENCE);
            }
        }
    }

    @Test
    void aTableMissingAModuleOrARankOfTheSpaceIsRefused() {
        LatencyTable full = StubTables.of(space, here, 1);
        Map<String, LatencyTable.Module> modules = new LinkedHashMap<>(full.modules());
        modules.remove("blocks.4.mlp.fc1");
        FormatException e = assertThrows(FormatException.class, () -> new LatencyPredictor(with(full, modules), space,
                "t.json"));
        assertEquals("t.json: the latency table has no module blocks.4.mlp.fc1 (it was built for another model or "
                + "search space)", e.getMessage());

        Map<String, LatencyTable.Module> noRank = new LinkedHashMap<>(full.modules());
        LatencyTable.Module m = noRank.get("blocks.0.attn.qkv");
        TreeMap<Integer, Measurement> ranks = new TreeMap<>(m.ranks());
        ranks.remove(space.rank(0, 2));
        noRank.put("blocks.0.attn.qkv", new LatencyTable.Module(m.in(), m.out(), m.rows(), m.dense(), ranks));
        e = assertThrows(FormatException.class, () -> new LatencyPredictor(with(full, noRank), space, "t.json"));
        assertTrue(e.getMessage().contains("no time for blocks.0.attn.qkv at rank " + space.rank(0, 2)), e.getMessage());
    }

    private static LatencyTable with(LatencyTable t, Map<String, LatencyTable.Module> modules) {
        return new LatencyTable(t.format(), t.machine(), t.model(), t.batch(), t.tokens(), t.timing(), t.dense(),
                t.overheadMs(), modules, t.parts(), t.calibration(), t.check());
    }

    @Test
    void aFactorizationNoFasterThanDenseIsPricedAsDenseAndKeptDense() {
        LatencyPredictor p = new LatencyPredictor(StubTables.of(space, here, 1), space, "t.json");
        String qkv = "blocks.0.attn.qkv";
        LatencyTable.Module m = p.table().modules().get(qkv);
        int full = space.maxRank(0);
        // at full rank the factors cost more than the dense layer: priced and exported dense
        assertTrue(m.ranks().get(full).ms() > m.dense().ms());
        assertEquals(m.dense().ms(), p.moduleMillis(qkv, full), 1e-12);
        assertFalse(p.factorize(qkv, 128, 384, full));
        int low = space.rank(0, 0);
        assertEquals(m.ranks().get(low).ms(), p.moduleMillis(qkv, low), 1e-12);
        assertTrue(p.factorize(qkv, 128, 384, low));
        // the dense subnet is the overhead plus every dense module
        double dense = StubTables.OVERHEAD_MS + p.table().modules().values().stream()
                .mapToDouble(x -> x.dense().ms()).sum();
        assertEquals(dense, p.millis(Candidate.uniform(space.depth(), 3, space.ratios().length - 1)), 1e-9);
        assertEquals(dense, p.millis(Map.of()), 1e-9);
        // a rank between two measured ones is interpolated
        int r0 = space.rank(0, 0);
        int r1 = space.rank(0, 1);
        assertEquals(0, (r0 + r1) % 2);
        double mid = (m.ranks().get(r0).ms() + m.ranks().get(r1).ms()) / 2;
        assertEquals(mid, p.moduleMillis(qkv, (r0 + r1) / 2), 1e-12);
    }

    @Test
    void theFlopsRuleIsFloraExportRule() {
        assertTrue(FactorizationRule.FEWER_FLOPS.factorize("m", 128, 384, 95));
        assertFalse(FactorizationRule.FEWER_FLOPS.factorize("m", 128, 384, 96));
    }

    @Test
    void aFileThatIsNotATableIsRefusedNamingIt() throws Exception {
        Path f = dir.resolve("x.json");
        Files.writeString(f, "{\"format\": \"something else\"}");
        FormatException e = assertThrows(FormatException.class, () -> LatencyTable.read(f));
        assertTrue(e.getMessage().startsWith(f + ": not a latency table"), e.getMessage());
        Files.writeString(f, "{\"format\": \"flora-latency-table/2\", \"timing\": {\"target_spread\": 0.03}}");
        e = assertThrows(FormatException.class, () -> LatencyTable.read(f));
        assertEquals(f + ": a latency table of format flora-latency-table/2, timed by an older flora-j; this one reads "
                + LatencyTable.FORMAT + ": measure it again with flora latency-table", e.getMessage());
        e = assertThrows(FormatException.class, () -> LatencyTable.read(dir.resolve("none.json")));
        assertTrue(e.getMessage().endsWith("latency table not found"), e.getMessage());
    }

    @Test
    void aTableWithTimesNoMeasurementGivesIsRefusedNamingTheModule() {
        LatencyTable full = StubTables.of(space, here, 1);
        String path = "blocks.1.mlp.fc2";
        LatencyTable.Module m = full.modules().get(path);
        List<LatencyTable.Module> bad = List.of(
                new LatencyTable.Module(m.in(), m.out(), m.rows(), new Measurement(-1, 0.01, 5), m.ranks()),
                new LatencyTable.Module(m.in(), m.out(), m.rows(), new Measurement(Double.POSITIVE_INFINITY, 0.01, 5),
                        m.ranks()),
                new LatencyTable.Module(m.in(), m.out(), 0, m.dense(), m.ranks()),
                new LatencyTable.Module(m.in(), m.out(), m.rows(), m.dense(),
                        new TreeMap<>(Map.of(0, m.dense()))),
                new LatencyTable.Module(m.in(), m.out(), m.rows(), m.dense(),
                        new TreeMap<>(Map.of(4, new Measurement(0.1, Double.NaN, 5)))),
                new LatencyTable.Module(m.in(), m.out(), m.rows(), m.dense(), null));
        Path f = dir.resolve("bad.json");
        for (LatencyTable.Module b : bad) {
            Map<String, LatencyTable.Module> modules = new LinkedHashMap<>(full.modules());
            modules.put(path, b);
            with(full, modules).write(f);
            FormatException e = assertThrows(FormatException.class, () -> LatencyTable.read(f), b.toString());
            assertTrue(e.getMessage().startsWith(f + ": not a latency table (module " + path), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        LatencyTable negativeBatch = new LatencyTable(full.format(), full.machine(), full.model(), 0, full.tokens(),
                full.timing(), full.dense(), full.overheadMs(), full.modules(), full.parts(), full.calibration(), null);
        negativeBatch.write(f);
        FormatException e = assertThrows(FormatException.class, () -> LatencyTable.read(f));
        assertTrue(e.getMessage().contains("batch and tokens must be at least 1"), e.getMessage());
    }

    @Test
    void theLayoutDecidedWhenTheTableWasBuiltIsKeptEvenWhereTheFinalTimesDisagree() {
        LatencyTable full = StubTables.of(space, here, 1);
        String qkv = "blocks.0.attn.qkv";
        LatencyTable.Module m = full.modules().get(qkv);
        int low = space.rank(0, 0);
        int high = space.maxRank(0);
        assertTrue(m.ranks().get(low).ms() < m.dense().ms() && m.ranks().get(high).ms() > m.dense().ms());
        // decided the other way round: the low rank dense, the full rank factorized
        Map<String, LatencyTable.Module> modules = new LinkedHashMap<>(full.modules());
        modules.put(qkv, m.withFactorized(new java.util.TreeSet<>(List.of(high))));
        LatencyPredictor p = new LatencyPredictor(with(full, modules), space, "t.json");
        assertFalse(p.factorize(qkv, 128, 384, low));
        assertEquals(m.dense().ms(), p.moduleMillis(qkv, low), 1e-12);
        assertTrue(p.factorize(qkv, 128, 384, high));
        assertEquals(m.ranks().get(high).ms(), p.moduleMillis(qkv, high), 1e-12);
    }
}
