package dev.flora.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.io.FormatException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class IdxReaderTest {
    static byte[] idx(int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(0x0800 | dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        return b.array();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        }
        return out.toByteArray();
    }

    private static IdxReader.IdxArray read(byte[] bytes) {
        return IdxReader.read(new ByteArrayInputStream(bytes), "test.idx");
    }

    @Test
    void readsRawAndGzip() throws IOException {
        byte[] data = {1, 2, 3, 4, 5, 6};
        byte[] file = idx(new int[] {3, 2}, data);
        assertArrayEquals(data, read(file).data());
        assertArrayEquals(new int[] {3, 2}, read(gzip(file)).dims());
        assertArrayEquals(data, read(gzip(file)).data());
    }

    @Test
    void truncatedDataNamesTheFileAndTheSizes() throws IOException {
        byte[] file = idx(new int[] {10, 4}, new byte[40]);
        FormatException e = assertThrows(FormatException.class, () -> read(Arrays.copyOf(file, file.length - 3)));
        assertTrue(e.getMessage().contains("test.idx") && e.getMessage().contains("expected 40 bytes, found 37"),
                e.getMessage());
        byte[] gz = gzip(file);
        assertThrows(FormatException.class, () -> read(Arrays.copyOf(gz, gz.length / 2)));
    }

    @Test
    void badMagicAndCorruptGzipAreRejected() throws IOException {
        assertTrue(assertThrows(FormatException.class, () -> read(new byte[] {0, 0, 0x0d, 1, 0, 0, 0, 1, 9}))
                .getMessage().contains("magic"));
        byte[] gz = gzip(idx(new int[] {4}, new byte[4]));
        gz[gz.length - 6] ^= 0x55; // break the CRC
        assertThrows(FormatException.class, () -> read(gz));
        assertThrows(FormatException.class, () -> read(new byte[0]));
        assertThrows(FormatException.class, () -> read(idx(new int[] {2}, new byte[3])), "trailing bytes");
    }
    /** Issue 27 item 10: a header that declares 2.1 GB costs memory in proportion to the bytes that are there. */
    @Test
    void aHugeDeclaredSizeAllocatesOnlyWhatTheFileHolds() throws IOException {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        for (byte[] file : new byte[][] {idx(new int[] {60000, 35000}, new byte[4]),
            gzip(idx(new int[] {60000, 35000}, new byte[4]))}) {
            long before = threads.getCurrentThreadAllocatedBytes();
            FormatException e = assertThrows(FormatException.class, () -> read(file));
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(e.getMessage().contains("expected 2100000000 bytes, found 4"), e.getMessage());
            assertTrue(allocated < 16 << 20, allocated + " bytes allocated for a file of " + file.length);
        }
    }

    /** Issue 27 item 10: bytes after the last gzip member are refused, more members are read. */
    @Test
    void trailingJunkAfterTheGzipDataIsRefused() throws IOException {
        byte[] file = idx(new int[] {3, 2}, new byte[] {1, 2, 3, 4, 5, 6});
        byte[] gz = gzip(file);
        for (byte[] junk : new byte[][] {{0}, {'x', 'y', 'z'}, new byte[64], {0x1f}}) {
            byte[] withJunk = Arrays.copyOf(gz, gz.length + junk.length);
            System.arraycopy(junk, 0, withJunk, gz.length, junk.length);
            FormatException e = assertThrows(FormatException.class, () -> read(withJunk));
            assertTrue(e.getMessage().startsWith("test.idx: ") && e.getMessage().contains("after the gzip data"),
                    e.getMessage());
        }
        byte[] first = gzip(Arrays.copyOf(file, 10));
        byte[] second = gzip(Arrays.copyOfRange(file, 10, file.length));
        byte[] twoMembers = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, twoMembers, first.length, second.length);
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6}, read(twoMembers).data(), "concatenated members, as gzip -c");
    }
}
