package dev.flora.engine.cpu;

import dev.flora.engine.tensor.HostStorage;
import dev.flora.engine.tensor.Tensor;

/** A host scratch tensor that grows to the largest size asked of it; contents undefined. */
final class GrowingTensor {
    private Tensor tensor;

    Tensor get(long n) {
        if (tensor == null || tensor.numel() < n) {
            int size = Math.toIntExact(Math.max(n, 1));
            tensor = new Tensor(new HostStorage(size), 0, size);
        }
        return tensor;
    }
}
