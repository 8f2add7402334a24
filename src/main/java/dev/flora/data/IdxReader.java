package dev.flora.data;

import dev.flora.engine.io.FormatException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.ZipException;

/**
 * Reads IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or raw: a magic number
 * (two zero bytes, the type code 0x08 for unsigned bytes, the number of dimensions), the
 * dimensions as big-endian ints, then the data. Truncated or malformed files, and bytes after
 * the data or after the gzip members, fail with a {@link FormatException} that names the file
 * and what was expected.
 */
public final class IdxReader {
    private static final int UNSIGNED_BYTE = 0x08;
    private static final int INITIAL_BUFFER = 1 << 20;

    private IdxReader() {
    }

    /** An IDX array of unsigned bytes. */
    public record IdxArray(int[] dims, byte[] data) {
    }

    /** Reads an array from {@code in}; {@code source} names it in error messages. */
    public static IdxArray read(InputStream raw, String source) {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(decompress(raw, source), 1 << 16))) {
            int magic;
            try {
                magic = in.readInt();
            } catch (EOFException e) {
                throw new FormatException(source + ": empty or truncated IDX file (expected a 4-byte magic number)");
            }
            int type = (magic >>> 8) & 0xff;
            int rank = magic & 0xff;
            if ((magic >>> 16) != 0 || type != UNSIGNED_BYTE || rank < 1 || rank > 4) {
                throw new FormatException(String.format("%s: not an IDX file of unsigned bytes (magic 0x%08x, expected "
                        + "0x000008NN with 1 <= NN <= 4 dimensions)", source, magic));
            }
            int[] dims = new int[rank];
            long total = 1;
            for (int i = 0; i < rank; i++) {
                try {
                    dims[i] = in.readInt();
                } catch (EOFException e) {
                    throw new FormatException(source + ": IDX header truncated (expected " + rank + " dimensions)");
                }
                if (dims[i] <= 0) {
                    throw new FormatException(source + ": IDX dimension " + i + " is " + dims[i]
                            + " (expected a positive size)");
                }
                total *= dims[i];
                // checked after each dimension: four ints can overflow a long
                if (total > Integer.MAX_VALUE - 8) {
                    throw new FormatException(source + ": IDX dimensions " + Arrays.toString(Arrays.copyOf(dims, i + 1))
                            + " make an array of more than 2 GiB, too large");
                }
            }
            byte[] data = readDeclared(in, (int) total, source);
            if (in.read() != -1) {
                throw new FormatException(source + ": IDX file has bytes after the " + total + " bytes its header "
                        + "declares");
            }
            return new IdxArray(dims, data);
        } catch (ZipException e) {
            throw new FormatException(source + ": corrupt gzip data (" + e.getMessage() + ")");
        } catch (EOFException e) {
            throw new FormatException(source + ": gzip stream truncated");
        } catch (IOException e) {
            throw new FormatException(source + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The {@code declared} bytes of data, read into a buffer that grows as they arrive, so that a
     * header declaring gigabytes costs memory in proportion to the bytes that are really there.
     */
    private static byte[] readDeclared(InputStream in, int declared, String source) throws IOException {
        byte[] data = new byte[Math.min(declared, INITIAL_BUFFER)];
        int got = 0;
        while (got < declared) {
            if (got == data.length) {
                data = Arrays.copyOf(data, (int) Math.min(declared, 2L * data.length));
            }
            int n = in.read(data, got, data.length - got);
            if (n < 0) {
                throw new FormatException(source + ": IDX data truncated: expected " + declared + " bytes, found " + got);
            }
            got += n;
        }
        return data;
    }

    /** Wraps the stream in a gzip decoder when it starts with the gzip magic bytes. */
    private static InputStream decompress(InputStream raw, String source) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            return new StrictGzipInputStream(in, 1 << 16);
        }
        return in;
    }
}
