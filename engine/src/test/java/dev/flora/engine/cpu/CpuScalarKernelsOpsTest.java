package dev.flora.engine.cpu;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.BackendOpsContract;

/**
 * The op contract on the scalar kernels, which JVMs without the Vector API module run (the test
 * JVM has it, so {@link CpuBackendOpsTest} runs the vector ones).
 */
class CpuScalarKernelsOpsTest extends BackendOpsContract {
    private static final Backend CPU = new CpuBackend(new ScalarCpuKernels());

    @Override
    protected Backend backend() {
        return CPU;
    }
}
