package dev.flora.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import org.junit.jupiter.api.Test;

class OpProfileTest {
    @Test
    void everyBackendCallIsCountedAndTheTimesFitInTheTotal() {
        ViTConfig tiny = ViTConfig.vitFmnist();
        OpProfile.Report r = OpProfile.profile(new CpuBackend(), b -> {
            VisionTransformer v = new VisionTransformer(b, tiny);
            ViTInitializer.initialize(v, 1);
            return v;
        }, 2, 3, true);
        int depth = tiny.depth();
        // per step: one GELU, one qkv linear on every token and one softmax backward per block; the
        // attention core and fc2 on every token in all blocks but the last, which runs its query,
        // its softmax and fc2 on the class tokens alone
        assertEquals(depth - 1, r.entries().get("attentionForward").calls() / 3);
        assertEquals(1, r.entries().get("softmaxForward").calls() / 3);
        assertEquals(depth, r.entries().get("geluForward").calls() / 3);
        assertEquals(depth, r.entries().get("softmaxBackward").calls() / 3);
        assertEquals(depth, r.entries().get("linearForward 100x128->384").calls() / 3, r.entries().keySet().toString());
        assertEquals(depth - 1, r.entries().get("linearForward 100x512->128 +residual").calls() / 3);
        assertEquals(1, r.entries().get("linearForward 2x512->128 +residual").calls() / 3);
        long sum = r.entries().values().stream().mapToLong(OpProfile.Entry::nanos).sum();
        assertTrue(sum > 0 && sum <= r.totalNanos(), sum + " vs " + r.totalNanos());
    }

    /**
     * A batch in lanes calls the proxy from several workers at once; every call is counted, once
     * per lane. (With a plain LinkedHashMap behind the proxy, this failed in about half of the
     * runs, lost updates or a corrupted map; the race itself is not deterministic.)
     */
    @Test
    void lanesCallingFromSeveralWorkersAreAllCounted() {
        ViTConfig tiny = ViTConfig.vitFmnist();
        CpuBackend cpu = new CpuBackend();
        int batch = 40;
        int lanes = cpu.batchLanes(batch);
        assertTrue(lanes > 1, "the CPU backend should split a batch of " + batch);
        OpProfile.Report r = OpProfile.profile(cpu, b -> {
            VisionTransformer v = new VisionTransformer(b, tiny);
            ViTInitializer.initialize(v, 1);
            return v;
        }, batch, 6, true);
        assertEquals((tiny.depth() - 1) * lanes, r.entries().get("attentionForward").calls() / 6);
        assertEquals(tiny.depth() * lanes, r.entries().get("softmaxBackward").calls() / 6);
    }
}
