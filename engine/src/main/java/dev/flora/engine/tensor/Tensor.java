package dev.flora.engine.tensor;

import java.util.Arrays;

/**
 * A float32 view into a {@link Storage}: an element offset and a row-major shape. Tensors carry
 * no autograd state; layers pass them explicitly to a backend's ops, which take the sizes they
 * need as arguments, so a tensor's shape is mostly a description and a bound.
 */
public final class Tensor {
    private final Storage storage;
    private final long offset;
    private final int[] shape;
    private final long numel;

    public Tensor(Storage storage, long offset, int... shape) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape.clone();
        this.numel = product(shape);
        if (offset < 0 || offset + numel > storage.capacity()) {
            throw new IllegalArgumentException("view [" + offset + ", " + (offset + numel) + ") of shape "
                    + Arrays.toString(shape) + " exceeds storage of " + storage.capacity() + " floats");
        }
    }

    public static long product(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
        }
        return n;
    }

    public Storage storage() {
        return storage;
    }

    /** Offset of the first element, in floats, from the start of the storage. */
    public long offset() {
        return offset;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public long numel() {
        return numel;
    }

    /** A view of {@code shape} starting {@code elementOffset} floats into this tensor. */
    public Tensor view(long elementOffset, int... newShape) {
        long n = product(newShape);
        if (elementOffset < 0 || elementOffset + n > numel) {
            throw new IllegalArgumentException("view [" + elementOffset + ", " + (elementOffset + n)
                    + ") outside tensor of shape " + Arrays.toString(shape));
        }
        return new Tensor(storage, offset + elementOffset, newShape);
    }

    /** The same elements under another shape with the same element count. */
    public Tensor reshape(int... newShape) {
        if (product(newShape) != numel) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to "
                    + Arrays.toString(newShape));
        }
        return new Tensor(storage, offset, newShape);
    }

    /** Everything from {@code elementOffset} to the end, as a flat view (operands of strided ops). */
    public Tensor from(long elementOffset) {
        return view(elementOffset, Math.toIntExact(numel - elementOffset));
    }

    /** Leading {@code n} elements, as a flat view. */
    public Tensor head(long n) {
        return view(0, Math.toIntExact(n));
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
