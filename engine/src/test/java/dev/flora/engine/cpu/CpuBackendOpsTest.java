package dev.flora.engine.cpu;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.BackendOpsContract;

class CpuBackendOpsTest extends BackendOpsContract {
    private static final Backend CPU = new CpuBackend();

    @Override
    protected Backend backend() {
        return CPU;
    }
}
