package dev.flora.latency;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.LinearLayer;
import dev.flora.engine.nn.LinearSpec;
import dev.flora.engine.nn.ParameterArena;
import dev.flora.engine.tensor.Tensor;
import java.util.Random;

/**
 * Times one linear module's forward as a model's forward runs it: each lane of the batch
 * ({@code VisionTransformer.laneImages}) on its own rows, the lanes at once on the backend's
 * pool, and the skip connection added where the block adds it (fc2, proj). Dense or at rank r;
 * the weights are random, since time does not depend on their values.
 */
final class ModuleProbe {
    private final Backend backend;
    private final int in;
    private final int out;
    private final int[] laneRows;
    private final Tensor[] inputs;
    private final Tensor[] residuals;

    /**
     * @param laneRows the rows each lane feeds the module: images × tokens, or × the class
     *                 token alone in the last block's tail
     * @param residual whether the module adds the block's skip connection
     */
    ModuleProbe(Backend backend, int in, int out, int[] laneRows, boolean residual) {
        this.backend = backend;
        this.in = in;
        this.out = out;
        this.laneRows = laneRows.clone();
        this.inputs = new Tensor[laneRows.length];
        this.residuals = new Tensor[laneRows.length];
        Random rng = new Random(in * 31L + out);
        for (int i = 0; i < laneRows.length; i++) {
            inputs[i] = LatencyMeter.random(backend, laneRows[i] * in, rng, 1);
            residuals[i] = residual ? LatencyMeter.random(backend, laneRows[i] * out, rng, 1) : null;
        }
    }

    /** One forward of the module laid out as {@code spec} (dense, or factorized at one rank), for the meter to time. */
    Runnable forward(LinearSpec spec) {
        LinearLayer[] layers = new LinearLayer[laneRows.length];
        ParameterArena shared = null;
        for (int i = 0; i < layers.length; i++) {
            ParameterArena.Builder params = new ParameterArena.Builder();
            layers[i] = spec.create(backend, params, "probe", in, out);
            if (shared == null) {
                shared = params.build(backend);
                backend.copy(LatencyMeter.random(backend, Math.toIntExact(shared.size()), new Random(7), 0.02),
                        shared.values());
            } else {
                params.bindTo(shared); // lanes share the weights, as a model's lanes do
            }
        }
        return () -> backend.runLanes(layers.length, i -> layers[i].forward(inputs[i], laneRows[i], residuals[i]));
    }
}
