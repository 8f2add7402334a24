package dev.flora.engine.cuda;

import java.util.Arrays;

/**
 * The arguments of one kernel launch, in order, each as 64 bits with its width: device
 * addresses and 64-bit integers as they are, ints as their value, floats as their IEEE bits.
 * Both devices read this one form: the emulated one unpacks the bits to the kernel's parameter
 * types, the real one hands each value to the driver at its width.
 */
public final class KernelArgs {
    /** Width of an argument as the kernel declares it. */
    public enum Kind { POINTER, I32, I64, F32 }

    private long[] bits = new long[8];
    private Kind[] kinds = new Kind[8];
    private int size;

    private KernelArgs add(long value, Kind kind) {
        if (size == bits.length) {
            bits = Arrays.copyOf(bits, size * 2);
            kinds = Arrays.copyOf(kinds, size * 2);
        }
        bits[size] = value;
        kinds[size] = kind;
        size++;
        return this;
    }

    /** A device address (0 for a null pointer). */
    public KernelArgs ptr(long address) {
        return add(address, Kind.POINTER);
    }

    public KernelArgs i32(int v) {
        return add(v, Kind.I32);
    }

    public KernelArgs i64(long v) {
        return add(v, Kind.I64);
    }

    public KernelArgs f32(float v) {
        return add(Integer.toUnsignedLong(Float.floatToRawIntBits(v)), Kind.F32);
    }

    public int size() {
        return size;
    }

    public long bits(int i) {
        return bits[i];
    }

    public Kind kind(int i) {
        return kinds[i];
    }

    /** All arguments as 64-bit words, in order. */
    public long[] words() {
        return Arrays.copyOf(bits, size);
    }
}
