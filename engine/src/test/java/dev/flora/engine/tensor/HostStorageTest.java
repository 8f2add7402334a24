package dev.flora.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Both kinds of host memory are zeroed and 64-byte aligned; only releasable memory can be freed early. */
class HostStorageTest {
    @Test
    void bothKindsAreZeroedAndAligned() {
        for (HostStorage s : new HostStorage[] {new HostStorage(1000), HostStorage.releasable(1000)}) {
            assertEquals(1000, s.capacity());
            assertEquals(0, s.pointerAt(0).address() % 64, "aligned");
            for (int i = 0; i < 1000; i++) {
                assertEquals(0f, s.buffer().get(i));
            }
            s.buffer().put(999, 2.5f);
            assertEquals(2.5f, s.bytes().getFloat(999 * Float.BYTES));
        }
    }

    @Test
    void releasedMemoryRefusesEveryAccessSayingWhy() {
        HostStorage s = HostStorage.releasable(64);
        assertFalse(s.isReleased());
        s.release("for the test");
        assertTrue(s.isReleased());
        for (Runnable access : new Runnable[] {s::buffer, s::bytes, () -> s.pointerAt(0)}) {
            IllegalStateException e = assertThrows(IllegalStateException.class, access::run);
            assertTrue(e.getMessage().contains("for the test"), e.getMessage());
        }
        assertEquals(64, s.capacity(), "the size stays known");
    }

    @Test
    void aDirectBufferCannotBeReleased() {
        assertThrows(UnsupportedOperationException.class, () -> new HostStorage(16).release("no"));
    }
}
