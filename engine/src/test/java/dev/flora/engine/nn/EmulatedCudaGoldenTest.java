package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cuda.CudaBackend;
import dev.flora.engine.cuda.EmulatedDevice;

/** Logits, loss and gradients against PyTorch with every op on the emulated CUDA device. */
class EmulatedCudaGoldenTest extends PyTorchGoldenTest {
    @Override
    protected Backend backend() {
        return new CudaBackend(new EmulatedDevice());
    }
}
