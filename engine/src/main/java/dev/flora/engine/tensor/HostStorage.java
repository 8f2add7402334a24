package dev.flora.engine.tensor;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Off-heap float32 host memory, zeroed and 64-byte aligned so that BLAS and vector loops see
 * cache-line aligned rows. By default a direct buffer, freed by the garbage collector once
 * unreachable (and counted against -XX:MaxDirectMemorySize, whose limit makes the JVM collect
 * before it runs out). {@link #releasable} memory can instead be freed at once by
 * {@link #release}: a model's parameters, whose fp32 copies a backend that keeps the weights in
 * its own format no longer needs.
 */
public final class HostStorage implements Storage {
    private static final int ALIGNMENT = 64;
    /** Frees releasable memory that became unreachable without {@link #release}. */
    private static final Cleaner UNREACHED = Cleaner.create();

    private final ByteBuffer bytes;
    private final FloatBuffer buffer;
    private final FloatPointer pointer;
    /** Frees releasable memory (at most once); null for a direct buffer. */
    private final Cleaner.Cleanable freeing;
    /** Why the memory was released, or null while it is there. */
    private volatile String released;

    /** {@code floats} zeroed floats in a direct buffer. */
    public HostStorage(long floats) {
        int size = byteSize(floats);
        // alignedSlice trims both ends to the alignment, so over-allocate by a full block each side
        int rounded = (size + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        ByteBuffer raw = ByteBuffer.allocateDirect(rounded + ALIGNMENT).alignedSlice(ALIGNMENT);
        this.bytes = raw.limit(size).slice().order(ByteOrder.nativeOrder());
        this.buffer = bytes.asFloatBuffer();
        this.pointer = new FloatPointer(buffer);
        this.freeing = null;
    }

    private HostStorage(Pointer raw, int size) {
        long pad = (ALIGNMENT - raw.address() % ALIGNMENT) % ALIGNMENT;
        this.bytes = new BytePointer(raw).position(pad).limit(pad + size).asByteBuffer().slice()
                .order(ByteOrder.nativeOrder());
        this.buffer = bytes.asFloatBuffer();
        this.pointer = new FloatPointer(buffer);
        this.freeing = UNREACHED.register(this, freeAction(raw));
    }

    /** {@code floats} zeroed floats that {@link #release} can free before they become unreachable. */
    public static HostStorage releasable(long floats) {
        int size = byteSize(floats);
        Pointer raw = Pointer.calloc(size + ALIGNMENT, 1);
        if (raw == null || raw.isNull()) {
            throw new OutOfMemoryError("host tensor of " + floats + " floats: out of native memory");
        }
        return new HostStorage(raw, size);
    }

    /** Kept apart from the constructor so that the action does not hold the storage reachable. */
    private static Runnable freeAction(Pointer raw) {
        return () -> Pointer.free(raw);
    }

    private static int byteSize(long floats) {
        if (floats < 0 || floats > Integer.MAX_VALUE / Float.BYTES - ALIGNMENT) {
            throw new IllegalArgumentException("host tensor of " + floats + " floats is out of range (max "
                    + (Integer.MAX_VALUE / Float.BYTES - ALIGNMENT) + ")");
        }
        return Math.toIntExact(floats * Float.BYTES);
    }

    /**
     * Frees {@link #releasable} memory now; every later access of it throws an
     * {@code IllegalStateException} that says {@code why}. Whoever releases it makes sure no
     * buffer or pointer taken from it before is still in use.
     */
    public void release(String why) {
        if (freeing == null) {
            throw new UnsupportedOperationException("this host memory is a direct buffer, freed by the garbage "
                    + "collector; only HostStorage.releasable memory can be released");
        }
        released = why;
        freeing.clean();
    }

    /** Whether {@link #release} freed this memory. */
    public boolean isReleased() {
        return released != null;
    }

    /** The whole storage as a native-order float buffer (absolute get/put only). */
    public FloatBuffer buffer() {
        requireThere();
        return buffer;
    }

    /**
     * The same memory as native-order bytes (absolute get/put only), for vector loads and
     * stores; float i is at byte 4·i, and byte 0 is 64-byte aligned.
     */
    public ByteBuffer bytes() {
        requireThere();
        return bytes;
    }

    /**
     * A native pointer to element {@code offset}. A fresh object per call so concurrent callers
     * never share a mutable position.
     */
    public FloatPointer pointerAt(long offset) {
        requireThere();
        return new FloatPointer(pointer).position(offset);
    }

    private void requireThere() {
        String why = released;
        if (why != null) {
            throw new IllegalStateException("this memory was released: " + why);
        }
    }

    @Override
    public long capacity() {
        return buffer.capacity();
    }
}
