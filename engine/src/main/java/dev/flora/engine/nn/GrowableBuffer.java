package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;

/**
 * A layer-owned activation buffer that is allocated on first use and grows when a larger
 * batch arrives, so steady-state training and inference allocate nothing.
 */
final class GrowableBuffer {
    private final Backend backend;
    private Tensor storage;

    GrowableBuffer(Backend backend) {
        this.backend = backend;
    }

    /** A view of exactly {@code numel} floats; contents are whatever the last use left. */
    Tensor get(long numel) {
        if (storage == null || storage.numel() < numel) {
            storage = backend.allocate(Math.toIntExact(numel));
        }
        return storage.head(numel);
    }
}
