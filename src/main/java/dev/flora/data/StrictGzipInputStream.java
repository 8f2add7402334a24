package dev.flora.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * A gzip decoder (RFC 1952) that, unlike {@link java.util.zip.GZIPInputStream}, refuses bytes
 * after the last member instead of ignoring them: a file with junk appended is not the file its
 * producer wrote. Members written one after another ({@code cat a.gz b.gz}) decode as one stream.
 * Each member's CRC-32 and length are checked.
 */
final class StrictGzipInputStream extends InputStream {
    private static final int FHCRC = 2;
    private static final int FEXTRA = 4;
    private static final int FNAME = 8;
    private static final int FCOMMENT = 16;

    private final PushbackInputStream in;
    private final byte[] buf;
    private final Inflater inflater = new Inflater(true);
    private final CRC32 crc = new CRC32();
    private int bufLen;
    private boolean done;

    StrictGzipInputStream(InputStream raw, int bufferSize) throws IOException {
        this.buf = new byte[bufferSize];
        this.in = new PushbackInputStream(raw, bufferSize);
        readHeader();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (!done) {
            int n;
            try {
                n = inflater.inflate(b, off, len);
            } catch (DataFormatException e) {
                throw new ZipException("invalid deflate data: " + e.getMessage());
            }
            if (n > 0) {
                crc.update(b, off, n);
                return n;
            }
            if (inflater.finished()) {
                endMember();
            } else if (inflater.needsDictionary()) {
                throw new ZipException("deflate data asks for a preset dictionary, which gzip does not have");
            } else if (inflater.needsInput()) {
                bufLen = in.read(buf, 0, buf.length);
                if (bufLen < 0) {
                    throw new EOFException("gzip stream ends inside its compressed data");
                }
                inflater.setInput(buf, 0, bufLen);
            }
        }
        return -1;
    }

    /** Checks the trailer, then starts the next member, ends at a clean end of input, or refuses what follows. */
    private void endMember() throws IOException {
        int left = inflater.getRemaining();
        if (left > 0) {
            in.unread(buf, bufLen - left, left);
        }
        long storedCrc = readLe32();
        long storedSize = readLe32();
        if (storedCrc != crc.getValue() || storedSize != (inflater.getBytesWritten() & 0xffffffffL)) {
            throw new ZipException("gzip member's CRC-32 or length does not match its data");
        }
        int next = in.read();
        if (next < 0) {
            done = true;
            return;
        }
        in.unread(next);
        inflater.reset();
        crc.reset();
        readHeader();
    }

    private void readHeader() throws IOException {
        int id1 = in.read();
        int id2 = in.read();
        if (id1 != 0x1f || id2 != 0x8b) {
            throw new ZipException(id1 < 0 ? "gzip stream truncated" : "bytes after the gzip data (expected the end "
                    + "of the file or another gzip member)");
        }
        if (readByte() != 8) {
            throw new ZipException("gzip member not compressed with deflate (method 8)");
        }
        int flags = readByte();
        skip(6); // mtime, xfl, os
        if ((flags & FEXTRA) != 0) {
            skip(readByte() | readByte() << 8);
        }
        if ((flags & FNAME) != 0) {
            skipZeroTerminated();
        }
        if ((flags & FCOMMENT) != 0) {
            skipZeroTerminated();
        }
        if ((flags & FHCRC) != 0) {
            skip(2);
        }
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("gzip header truncated");
        }
        return b;
    }

    private long readLe32() throws IOException {
        return readByte() | (long) readByte() << 8 | (long) readByte() << 16 | (long) readByte() << 24;
    }

    private void skip(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            readByte();
        }
    }

    private void skipZeroTerminated() throws IOException {
        while (readByte() != 0) {
            // the name or comment, which we do not need
        }
    }

    @Override
    public void close() throws IOException {
        inflater.end();
        in.close();
    }
}
