package dev.flora.engine.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.nn.ModelTestSupport;
import dev.flora.engine.nn.Param;
import dev.flora.engine.nn.VisionTransformer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OptimTest {
    private final Backend backend = new CpuBackend();

    @Test
    void weightDecayFollowsTimmGrouping() {
        VisionTransformer m = new VisionTransformer(backend, ModelTestSupport.tinyConfig());
        ModelTestSupport.randomize(m, new Random(1), 0.5);
        float[] before = backend.download(m.arena().values());
        m.arena().zeroGrads(); // zero gradients: only weight decay can move a parameter
        AdamW opt = new AdamW(m.arena(), 0.5f);
        opt.step(0.1f);
        float[] after = backend.download(m.arena().values());
        for (Param p : m.arena().params()) {
            int o = (int) p.offset();
            boolean moved = false;
            for (int i = 0; i < p.numel(); i++) {
                if (before[o + i] != after[o + i]) {
                    moved = true;
                    assertEquals(before[o + i] * (1 - 0.1f * 0.5f), after[o + i], 1e-6, p.name());
                }
            }
            boolean shouldDecay = p.name().endsWith(".weight") && !p.name().contains("norm")
                    || p.name().equals("patch_embed.proj.weight");
            assertEquals(shouldDecay, moved, p.name() + (shouldDecay ? " must" : " must not") + " be decayed");
        }
    }

    @Test
    void cosineScheduleWarmsUpThenDecays() {
        CosineSchedule s = new CosineSchedule(1e-3, 1e-5, 0, 10, 110);
        assertEquals(1e-4, s.lr(0), 1e-12);
        assertEquals(1e-3, s.lr(9), 1e-12);
        assertEquals(1e-3, s.lr(10), 1e-12);
        assertEquals((1e-3 + 1e-5) / 2, s.lr(60), 1e-9);
        assertEquals(1e-5, s.lr(110), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new CosineSchedule(1, 0, 0, 5, 4));
    }

    @Test
    void clippingBoundsTheGlobalNorm() {
        VisionTransformer m = new VisionTransformer(backend, ModelTestSupport.tinyConfig());
        float[] g = new float[(int) m.arena().size()];
        Random r = new Random(2);
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) r.nextGaussian();
        }
        backend.upload(g, 0, m.arena().grads());
        double before = GradientClipping.clip(m.arena(), 1.0);
        assertNotEquals(1.0, before, 0.5);
        double after = Math.sqrt(backend.sumOfSquares(m.arena().grads(), m.arena().size()));
        assertEquals(1.0, after, 1e-4);
    }
}
