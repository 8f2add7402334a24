package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cuda.CudaBackend;
import dev.flora.engine.cuda.EmulatedDevice;

/** The whole-ViT finite-difference check with every op on the emulated CUDA device. */
class EmulatedCudaGradientTest extends VisionTransformerGradientTest {
    @Override
    protected Backend backend() {
        return new CudaBackend(new EmulatedDevice());
    }
}
