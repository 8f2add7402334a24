package dev.flora.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/** Pages returned early: only whole pages inside the range, which then read as zeros; the rest is kept. */
class LibcTest {
    @Test
    void discardedPagesReadAsZerosAndTheEdgesAreKept() {
        int floats = 5 * 1024; // five pages of floats, not page-aligned in general
        try (FloatPointer p = new FloatPointer(floats)) {
            for (int i = 0; i < floats; i++) {
                p.put(i, i + 1f);
            }
            long address = p.address();
            long from = address + 100 * Float.BYTES;
            long bytes = (floats - 200) * (long) Float.BYTES;
            long discarded = Libc.discardPages(from, bytes);
            long firstPage = (from + 4095) / 4096 * 4096;
            long endPage = (from + bytes) / 4096 * 4096;
            assertEquals(endPage - firstPage, discarded);
            for (int i = 0; i < floats; i++) {
                long at = address + (long) i * Float.BYTES;
                boolean gone = at >= firstPage && at < endPage;
                assertEquals(gone ? 0f : i + 1f, p.get(i), "float " + i);
            }
        }
    }
}
