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
}
