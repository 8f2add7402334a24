package dev.flora.engine.io;

import java.util.Arrays;

/** A named host tensor to write: a row-major float32 array and its shape. */
public record TensorData(int[] shape, float[] data) {
    public TensorData {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " values, data has "
                    + data.length);
        }
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }
}
