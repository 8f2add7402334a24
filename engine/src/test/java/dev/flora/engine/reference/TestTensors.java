package dev.flora.engine.reference;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;
import java.util.Random;

/** Seeded test inputs and their upload to a backend. */
public final class TestTensors {
    private TestTensors() {
    }

    /** n standard-normal floats from {@code seed}. */
    public static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    /** A new tensor of {@code backend} holding {@code v}. */
    public static Tensor upload(Backend backend, float[] v) {
        Tensor t = backend.allocate(v.length);
        backend.upload(v, 0, t);
        return t;
    }
}
