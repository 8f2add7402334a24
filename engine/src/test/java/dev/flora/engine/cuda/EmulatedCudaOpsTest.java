package dev.flora.engine.cuda;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.BackendOpsContract;

/** The whole op contract on the CUDA backend, kernels running on the emulated device. */
class EmulatedCudaOpsTest extends BackendOpsContract {
    private static final Backend CUDA = new CudaBackend(new EmulatedDevice());

    @Override
    protected Backend backend() {
        return CUDA;
    }
}
