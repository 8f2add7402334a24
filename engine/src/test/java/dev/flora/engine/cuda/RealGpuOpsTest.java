package dev.flora.engine.cuda;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.BackendOpsContract;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;

/**
 * The whole op contract on a real GPU. Where none is usable (so far: everywhere this project
 * has run) every case is reported as skipped, with the reason.
 */
class RealGpuOpsTest extends BackendOpsContract {
    private static Backend gpu;

    /** Checked before each case, so that every case shows as skipped in the report, not as absent. */
    @BeforeEach
    void openGpu() {
        String why = JCudaDevice.unavailableReason();
        Assumptions.assumeTrue(why == null, "no usable GPU: " + why);
        if (gpu == null) {
            gpu = new CudaBackend(new JCudaDevice(0));
        }
    }

    @Override
    protected Backend backend() {
        return gpu;
    }
}
