package dev.flora.engine.cpu;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.BackendOpsContract;

/**
 * The op contract on the Vector API kernels with GELU through heap copies, as JDKs from 19 on
 * run them (their Vector API has no byte-buffer access); on JDK 17 {@link CpuBackendOpsTest}
 * runs GELU in the tensors' memory.
 */
class CpuVectorKernelsThroughCopiesOpsTest extends BackendOpsContract {
    private static final Backend CPU = new CpuBackend(new VectorCpuKernels(false));

    @Override
    protected Backend backend() {
        return CPU;
    }
}
