package dev.flora.engine.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.tensor.Storage;
import dev.flora.engine.tensor.Tensor;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A buffer grows at least twofold, so that batch sizes that keep rising (a server's) allocate a
 * few times, not once per new largest batch, while a fixed size allocates exactly what it needs.
 */
class GrowableBufferTest {
    @Test
    void growsAtLeastTwofoldButFirstAndPastTheLimitToWhatIsAsked() {
        assertEquals(197, GrowableBuffer.grownSize(0, 197));
        assertEquals(394, GrowableBuffer.grownSize(197, 198));
        assertEquals(1000, GrowableBuffer.grownSize(197, 1000));
        long big = GrowableBuffer.DOUBLING_LIMIT / 2 + 1;
        assertEquals(big + 1, GrowableBuffer.grownSize(big, big + 1));
    }

    @Test
    void risingSizesAllocateLogarithmicallyOften() {
        try (CpuBackend cpu = new CpuBackend()) {
            GrowableBuffer buffer = new GrowableBuffer(cpu);
            Set<Storage> storages = Collections.newSetFromMap(new IdentityHashMap<>());
            for (int batch = 1; batch <= 48; batch++) {
                Tensor t = buffer.get(batch * 100L);
                assertEquals(batch * 100L, t.numel());
                storages.add(t.storage());
            }
            // 100, 200, 400, ..., 6400 floats: seven allocations for 48 sizes
            assertEquals(7, storages.size());
            assertEquals(6400, buffer.get(4800).storage().capacity());
            GrowableBuffer fixed = new GrowableBuffer(cpu);
            for (int i = 0; i < 3; i++) {
                assertEquals(4800, fixed.get(4800).storage().capacity());
            }
        }
    }
}
