package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cuda.CudaBackend;
import dev.flora.engine.cuda.EmulatedDevice;

/** The LoRITa factored linear's checks with every op on the emulated CUDA device. */
class EmulatedCudaFactoredLinearTest extends FactoredLinearTest {
    @Override
    protected Backend backend() {
        return new CudaBackend(new EmulatedDevice());
    }
}
