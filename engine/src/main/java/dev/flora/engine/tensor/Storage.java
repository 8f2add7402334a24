package dev.flora.engine.tensor;

/**
 * A block of float32 memory owned by one backend: host memory for the CPU backend,
 * device memory for the CUDA backend. Tensors are views (offset + shape) into a storage.
 */
public interface Storage {
    /** Capacity in floats. */
    long capacity();
}
