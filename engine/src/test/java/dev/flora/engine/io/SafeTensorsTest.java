package dev.flora.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path dir;

    private Path writeSample() {
        Map<String, TensorData> t = new LinkedHashMap<>();
        t.put("a.weight", new TensorData(new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f}));
        t.put("b", new TensorData(new int[] {1}, new float[] {42}));
        Path p = dir.resolve("m.safetensors");
        SafeTensors.write(p, t, Map.of("img_size", "28"));
        return p;
    }

    @Test
    void bf16RoundingMatchesPyTorchOnTiesSubnormalsAndExtremes() throws Exception {
        ByteBuffer b = ByteBuffer.wrap(getClass().getResourceAsStream("/golden/bf16_rounding.bin").readAllBytes())
                .order(ByteOrder.LITTLE_ENDIAN);
        int n = b.capacity() / 6;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = b.getFloat();
        }
        for (int i = 0; i < n; i++) {
            short expected = b.getShort();
            assertEquals(expected, WeightDtype.toBf16(x[i]), "bf16 of " + x[i] + " (0x"
                    + Integer.toHexString(Float.floatToRawIntBits(x[i])) + ")");
        }
        assertEquals((short) 0x3f80, WeightDtype.toBf16(1f + 0x1p-8f), "a tie rounds to the even neighbour");
        assertEquals((short) 0x3f82, WeightDtype.toBf16(1f + 3 * 0x1p-8f));
        assertTrue(Float.isNaN(Float.intBitsToFloat(WeightDtype.toBf16(Float.NaN) << 16)));
    }

    @Test
    void bf16FilesHoldHalfTheBytesAndReadBackAsTheRoundedValues() throws Exception {
        float[] values = new float[1000];
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) r.nextGaussian();
        }
        Map<String, TensorData> t = Map.of("w", new TensorData(new int[] {10, 100}, values));
        Path f32 = dir.resolve("f32.safetensors");
        Path bf16 = dir.resolve("bf16.safetensors");
        SafeTensors.write(f32, t, Map.of());
        SafeTensors.write(bf16, t, Map.of(), WeightDtype.BF16);
        SafeTensors read = SafeTensors.open(bf16);
        assertEquals("BF16", read.entry("w").dtype());
        assertEquals(2L * values.length, read.entry("w").end() - read.entry("w").begin());
        assertTrue(Files.size(bf16) < Files.size(f32) * 0.55, Files.size(bf16) + " vs " + Files.size(f32));
        float[] back = read.read("w");
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.intBitsToFloat(WeightDtype.toBf16(values[i]) << 16), back[i]);
            assertEquals(values[i], back[i], Math.abs(values[i]) * 0x1p-8f);
        }
    }

    @Test
    void roundTripKeepsValuesShapesAndMetadata() {
        SafeTensors f = SafeTensors.open(writeSample());
        assertEquals("28", f.metadata().get("img_size"));
        assertArrayEquals(new int[] {2, 3}, f.entry("a.weight").shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, -6.5f}, f.read("a.weight"));
        assertArrayEquals(new float[] {42}, f.read("b"));
    }

    @Test
    void headerIsPaddedToEightBytes() throws IOException {
        byte[] raw = Files.readAllBytes(writeSample());
        long headerLen = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8);
    }

    @Test
    void atomicWriteLeavesNoTemporaryFiles() throws IOException {
        writeSample();
        writeSample();
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "only the target file remains");
        }
    }

    @Test
    void failedWriteKeepsThePreviousFile() throws IOException {
        Path p = writeSample();
        byte[] before = Files.readAllBytes(p);
        assertThrows(RuntimeException.class, () -> AtomicFiles.write(p, ch -> {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            throw new IOException("disk full");
        }));
        assertArrayEquals(before, Files.readAllBytes(p));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "the temporary file is removed");
        }
    }

    @Test
    void truncatedFileIsRejectedWithItsName() throws IOException {
        Path p = writeSample();
        byte[] raw = Files.readAllBytes(p);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(raw, raw.length - 5));
        FormatException e = assertThrows(FormatException.class, () -> SafeTensors.open(cut));
        assertTrue(e.getMessage().contains("cut.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void garbageIsNotASafetensorsFile() throws IOException {
        Path p = dir.resolve("junk.safetensors");
        Files.writeString(p, "this is not a model at all");
        FormatException e = assertThrows(FormatException.class, () -> SafeTensors.open(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2});
        assertThrows(FormatException.class, () -> SafeTensors.open(tiny));
        assertThrows(FormatException.class, () -> SafeTensors.open(dir.resolve("missing.safetensors")));
    }

    @Test
    void inconsistentHeaderEntriesAreRejected() throws IOException {
        Path badJson = raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]", new byte[8]);
        assertThrows(FormatException.class, () -> SafeTensors.open(badJson));
        Path wrongSize = raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", new byte[8]);
        FormatException e = assertThrows(FormatException.class, () -> SafeTensors.open(wrongSize));
        assertTrue(e.getMessage().contains("tensor a"), e.getMessage());
        Path badType = raw("{\"a\": {\"dtype\": \"I64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", new byte[8]);
        assertTrue(assertThrows(FormatException.class, () -> SafeTensors.open(badType)).getMessage().contains("I64"));
    }

    @Test
    void halfBfloatAndDoubleAreReadAsFloat() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(2 * 2 + 2 * 2 + 8).order(ByteOrder.LITTLE_ENDIAN);
        data.putShort((short) 0x3C00).putShort((short) 0xC500); // F16: 1.0, -5.0
        data.putShort((short) 0x3F80).putShort((short) 0x4040); // BF16: 1.0, 3.0
        data.putDouble(0.25);
        Path p = raw("{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}}", data.array());
        SafeTensors f = SafeTensors.open(p);
        assertArrayEquals(new float[] {1f, -5f}, f.read("h"));
        assertArrayEquals(new float[] {1f, 3f}, f.read("b"));
        assertArrayEquals(new float[] {0.25f}, f.read("d"));
        assertEquals(6.1035156e-5f, SafeTensors.halfToFloat((short) 0x0400)); // smallest normal
        assertEquals(5.9604645e-8f, SafeTensors.halfToFloat((short) 0x0001)); // smallest subnormal
    }

    /** Issue 27 item 2: the data section is tiled exactly by the tensors, as the reference reader requires. */
    @Test
    void dataOffsetsMustTileTheDataSectionExactly() throws IOException {
        String two = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[%d,%d]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[%d,%d]}}";
        Path outOfOrder = raw(String.format(two, 8, 16, 0, 8), new byte[16]);
        assertEquals(Map.of("a", 8L, "b", 0L), Map.of("a", SafeTensors.open(outOfOrder).entry("a").begin(),
                "b", SafeTensors.open(outOfOrder).entry("b").begin()), "header order need not be data order");
        assertRejected(raw(String.format(two, 0, 8, 4, 12), new byte[16]), "tensor b", "overlap");
        assertRejected(raw(String.format(two, 0, 8, 0, 8), new byte[8]), "tensor b", "overlap");
        assertRejected(raw(String.format(two, 0, 8, 9, 17), new byte[17]), "tensor b", "gap");
        assertRejected(raw(String.format(two, 4, 12, 12, 20), new byte[20]), "tensor a", "gap");
        assertRejected(raw(String.format(two, 0, 8, 8, 16), new byte[17]), "1 byte", "after");
        assertRejected(raw("{}", new byte[3]), "3 bytes", "after");
    }

    /** Issue 27 item 4: numbers in the header are JSON integers in range, and keys are unique. */
    @Test
    void theHeaderIsParsedStrictly() throws IOException {
        String entry = "{\"a\":{\"dtype\":\"F32\",\"shape\":%s,\"data_offsets\":%s}}";
        assertRejected(raw(String.format(entry, "[1,1.5,2]", "[0,8]"), new byte[8]), "tensor a", "shape");
        assertRejected(raw(String.format(entry, "[2,-1]", "[0,8]"), new byte[8]), "tensor a", "shape");
        assertRejected(raw(String.format(entry, "[\"2\"]", "[0,8]"), new byte[8]), "tensor a", "shape");
        assertRejected(raw(String.format(entry, "[2]", "[\"0\",\"8\"]"), new byte[8]), "tensor a", "data_offsets");
        assertRejected(raw(String.format(entry, "[2]", "[0.0,8.0]"), new byte[8]), "tensor a", "data_offsets");
        assertRejected(raw(String.format(entry, "[2]", "[0,8.5]"), new byte[8]), "tensor a", "data_offsets");
        assertRejected(raw(String.format(entry, "[2]", "[-8,0]"), new byte[8]), "tensor a", "data_offsets");
        assertRejected(raw(String.format(entry, "[2]", "[0,99999999999999999999]"), new byte[8]), "tensor a",
                "data_offsets");
        assertRejected(raw(String.format(entry, "[2147483647,2147483647,2147483647]", "[0,8]"), new byte[8]),
                "tensor a", "elements");
        assertRejected(raw(String.format(entry, "[65536,65536]", "[0,8]"), new byte[8]), "tensor a", "elements");
        assertRejected(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]), "'a'",
                "duplicate");
        assertRejected(raw("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", new byte[0]), "'k'", "duplicate");
        assertRejected(raw("{} {}", new byte[0]), "header", "JSON");
    }

    private static void assertRejected(Path file, String... words) {
        FormatException e = assertThrows(FormatException.class, () -> SafeTensors.open(file));
        String m = e.getMessage();
        assertTrue(m.startsWith(file.toString()) && !m.contains("\n"), m);
        for (String w : words) {
            assertTrue(m.toLowerCase(java.util.Locale.ROOT).contains(w.toLowerCase(java.util.Locale.ROOT)), m);
        }
    }

    private Path raw(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path p = Files.createTempFile(dir, "raw", ".safetensors");
        Files.write(p, b.array());
        return p;
    }
}
