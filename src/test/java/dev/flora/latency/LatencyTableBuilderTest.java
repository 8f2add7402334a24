package dev.flora.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.cuda.Devices;
import dev.flora.engine.cuda.EmulatedDevice;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.space.SearchSpace;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Builds latency tables of a toy ViT for real, on the CPU and on the emulated GPU (the CUDA
 * backend's code path): every module and rank of the space is timed at the rows it sees, and
 * the check predicts and measures random subnets. The figures themselves are not asserted.
 */
class LatencyTableBuilderTest {
    private static final ViTConfig TOY = new ViTConfig(8, 4, 1, 16, 2, 2, 2.0, 3, new double[] {0.5},
            new double[] {0.25});
    /** Short caps: the loop stops after its floor of samples. */
    private static final LatencyTable.Timing QUICK = new LatencyTable.Timing(0.002, 0.01, 0, 0.2, 2);

    private static void buildsACompleteTable(Backend backend, int batch, double[] ratios, int subnets) {
        SearchSpace space = SearchSpace.full(TOY, SearchSpace.DEFAULT_TARGETS, ratios);
        VisionTransformer dense = new VisionTransformer(backend, TOY);
        ViTInitializer.initialize(dense, 0);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        LatencyTableBuilder builder = new LatencyTableBuilder(space, dense, "toy", batch, QUICK, quiet);
        LatencyTable table = builder.build(subnets, subnets, 0);

        assertEquals(Devices.inferenceName(backend), table.machine().backend());
        assertEquals(batch, table.batch());
        assertEquals(space.depth() * space.targets().size(), table.modules().size());
        for (int b = 0; b < space.depth(); b++) {
            for (int t = 0; t < space.targets().size(); t++) {
                LatencyTable.Module m = table.modules().get(space.modulePath(b, t));
                assertEquals(Arrays.stream(space.ranks(t)).boxed().toList(), m.ranks().keySet().stream().toList());
                boolean tail = b == space.depth() - 1 && t > 0;
                assertEquals(batch * (tail ? 1 : TOY.tokens()), m.rows(), space.modulePath(b, t));
                assertTrue(m.dense().ms() > 0 && m.dense().samples() >= LatencyMeter.FLOOR_SAMPLES);
            }
        }
        assertEquals(java.util.List.of("embedding", "block", "last_block", "head"), java.util.List.copyOf(
                table.parts().keySet()), "the rest of the model, part by part");
        assertEquals(TOY.depth() - 1, table.parts().get("block").count());
        assertTrue(table.parts().get("block").targetsMs() > 0 && table.parts().get("head").targetsMs() == 0);
        assertEquals(subnets + 1, table.calibration().size(), "the dense model and the random subnets");
        assertEquals(subnets, table.check().points().size());
        assertTrue(Double.isFinite(table.overheadMs()) && table.check().worstAbsErrorPct() >= 0);
        new LatencyPredictor(table, space, "toy"); // covers the space
    }

    @Test
    void onTheCpuEveryModuleAndRankIsTimedAtTheRowsItSees() {
        try (CpuBackend cpu = new CpuBackend()) {
            buildsACompleteTable(cpu, 3, SearchSpace.DEFAULT_RATIOS, 3);
        }
    }

    @Test
    void onTheEmulatedGpuTheCudaPathBuildsATableToo() {
        assumeTrue(EmulatedDevice.unavailableReason() == null, "emulated device: " + EmulatedDevice.unavailableReason());
        try (Backend gpu = Devices.open("cuda-emulated").backend()) {
            // two ratios and one subnet each: one emulated kernel launch costs milliseconds
            buildsACompleteTable(gpu, 2, new double[] {0.5, 1.0}, 1);
        }
    }

    @Test
    void theSpreadIsTheInterquartileRangeOverTheMedian() {
        double[] x = {1, 2, 3, 4, 5};
        assertEquals(3, LatencyMeter.median(x));
        assertEquals((4 - 2) / 3.0, LatencyMeter.spread(x), 1e-12);
    }
}
