package dev.flora.engine.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Off-heap float32 host memory, 64-byte aligned so that BLAS and vector loops see
 * cache-line aligned rows. Freed by the garbage collector's cleaner of the direct buffer.
 */
public final class HostStorage implements Storage {
    private static final int ALIGNMENT = 64;

    private final ByteBuffer bytes;
    private final FloatBuffer buffer;
    private final FloatPointer pointer;

    public HostStorage(long floats) {
        if (floats < 0 || floats > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("host tensor of " + floats + " floats is out of range (max "
                    + (Integer.MAX_VALUE - 64) + ")");
        }
        int size = Math.toIntExact(floats * Float.BYTES);
        // alignedSlice trims both ends to the alignment, so over-allocate by a full block each side
        int rounded = (size + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        ByteBuffer raw = ByteBuffer.allocateDirect(rounded + ALIGNMENT).alignedSlice(ALIGNMENT);
        this.bytes = raw.limit(size).slice().order(ByteOrder.nativeOrder());
        this.buffer = this.bytes.asFloatBuffer();
        this.pointer = new FloatPointer(buffer);
    }

    /** The whole storage as a native-order float buffer (absolute get/put only). */
    public FloatBuffer buffer() {
        return buffer;
    }

    /**
     * The same memory as native-order bytes (absolute get/put only), for vector loads and
     * stores; float i is at byte 4·i, and byte 0 is 64-byte aligned.
     */
    public ByteBuffer bytes() {
        return bytes;
    }

    /**
     * A native pointer to element {@code offset}. A fresh object per call so concurrent callers
     * never share a mutable position.
     */
    public FloatPointer pointerAt(long offset) {
        return new FloatPointer(pointer).position(offset);
    }

    @Override
    public long capacity() {
        return buffer.capacity();
    }
}
