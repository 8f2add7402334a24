package dev.flora.engine.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;

/**
 * Reader for the safetensors format: an 8-byte little-endian header length, a JSON header
 * ({@code name -> {dtype, shape, data_offsets}} plus an optional {@code __metadata__} map of
 * strings), then the raw little-endian data. The header is validated against the file
 * ({@link SafeTensorsHeader}) before any tensor is read. F32, F16, BF16 and F64 tensors are read as float32.
 */
public final class SafeTensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    private final Path path;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    /** One tensor's header entry; {@code begin}/{@code end} are relative to the data section. */
    public record Entry(String name, String dtype, int[] shape, long begin, long end) {
        public long numel() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }
    }

    private SafeTensors(Path path, long dataStart, Map<String, Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Opens and validates the header of {@code path}. */
    public static SafeTensors open(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new FormatException(path + ": not a safetensors file (" + size
                        + " bytes, expected at least an 8-byte header length)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, path);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER || headerLen > size - 8) {
                throw new FormatException(path + ": not a safetensors file (header length " + headerLen
                        + " does not fit in the file of " + size + " bytes)");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8, path);
            SafeTensorsHeader parsed = SafeTensorsHeader.parse(path, header.array(), size - 8 - headerLen);
            return new SafeTensors(path, 8 + headerLen, parsed.entries(), parsed.metadata());
        } catch (NoSuchFileException e) {
            throw new FormatException(path + ": no such file");
        } catch (IOException e) {
            throw new FormatException(path + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long position, Path path) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos);
            if (n < 0) {
                throw new FormatException(path + ": file ends early at byte " + pos);
            }
            pos += n;
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** Header entries in file order. */
    public Map<String, Entry> entries() {
        return entries;
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new FormatException(path + ": missing tensor " + name);
        }
        return e;
    }

    /** Reads tensor {@code name} as float32 values in row-major order. */
    public float[] read(String name) {
        Entry e = entry(name);
        if (e.end() - e.begin() > Integer.MAX_VALUE - 8) {
            throw new FormatException(path + ": tensor " + name + " of " + (e.end() - e.begin()) + " bytes is too "
                    + "large to read into one array (at most 2 GiB)");
        }
        int n = (int) e.numel();
        ByteBuffer raw = ByteBuffer.allocate(Math.toIntExact(e.end() - e.begin())).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            readFully(ch, raw, dataStart + e.begin(), path);
        } catch (IOException ex) {
            throw new FormatException(path + ": cannot read tensor " + name + " (" + ex.getMessage() + ")", ex);
        }
        raw.flip();
        float[] out = new float[n];
        switch (e.dtype()) {
            case "F32" -> raw.asFloatBuffer().get(out);
            case "F64" -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) raw.getDouble();
                }
            }
            case "BF16" -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((raw.getShort() & 0xffff) << 16);
                }
            }
            case "F16" -> {
                for (int i = 0; i < n; i++) {
                    out[i] = halfToFloat(raw.getShort());
                }
            }
            default -> throw new FormatException(path + ": tensor " + name + " has unsupported dtype " + e.dtype());
        }
        return out;
    }

    /** IEEE 754 binary16 to float. */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            float v = mant / 1024f / 16384f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /**
     * Writes {@code tensors} (F32) and {@code metadata} to {@code path} atomically: the file is
     * written beside the target under a temporary name, flushed to disk, then renamed over it,
     * so a reader never sees a half-written file.
     */
    public static void write(Path path, Map<String, TensorData> tensors, Map<String, String> metadata) {
        write(path, tensors, metadata, WeightDtype.F32);
    }

    /** As {@link #write(Path, Map, Map)}, every tensor stored as {@code dtype} (bf16: rounded to nearest even). */
    public static void write(Path path, Map<String, TensorData> tensors, Map<String, String> metadata,
                             WeightDtype dtype) {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, TensorData> t : tensors.entrySet()) {
            ObjectNode e = header.putObject(t.getKey());
            e.put("dtype", dtype.safetensorsName());
            var shape = e.putArray("shape");
            for (int d : t.getValue().shape()) {
                shape.add(d);
            }
            long bytes = (long) t.getValue().data().length * dtype.bytes();
            e.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
        AtomicFiles.write(path, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).flip();
            out.write(len);
            out.write(ByteBuffer.wrap(headerBytes));
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (TensorData t : tensors.values()) {
                float[] d = t.data();
                int i = 0;
                while (i < d.length) {
                    int n = Math.min(d.length - i, chunk.capacity() / dtype.bytes());
                    chunk.clear();
                    if (dtype == WeightDtype.BF16) {
                        for (int j = 0; j < n; j++) {
                            chunk.putShort(WeightDtype.toBf16(d[i + j]));
                        }
                        chunk.flip();
                    } else {
                        chunk.asFloatBuffer().put(d, i, n);
                        chunk.limit(n * Float.BYTES);
                    }
                    while (chunk.hasRemaining()) {
                        out.write(chunk);
                    }
                    i += n;
                }
            }
        });
    }
}
