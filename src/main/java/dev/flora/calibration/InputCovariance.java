package dev.flora.calibration;

import dev.flora.data.BatchLoader;
import dev.flora.data.ImageSource;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.Linear;
import dev.flora.engine.nn.LinearLayer;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import dev.flora.models.ModelInput;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The input covariance C = XᵀX / n of dense linear modules over calibration images: X holds the
 * rows each module sees in the model's own forward pass (every token, or the class token alone in
 * the last block's MLP, which is all the engine computes there).
 */
public final class InputCovariance {
    /** Images per forward pass: enough to keep the GEMMs efficient, few enough to bound memory. */
    static final int BATCH = 64;

    private InputCovariance() {
    }

    /** C [in, in] (row-major) of each module in {@code paths}, from every image of {@code images}. */
    public static Map<String, double[]> collect(VisionTransformer dense, ModelInput input, ImageSource images,
                                                List<String> paths) {
        Backend backend = dense.backend();
        Map<String, Linear> layers = new LinkedHashMap<>();
        Map<String, Tensor> sums = new LinkedHashMap<>();
        Map<String, Long> rows = new LinkedHashMap<>();
        for (String path : paths) {
            Linear d = denseLayer(dense, path);
            layers.put(path, d);
            sums.put(path, backend.allocate(d.inFeatures(), d.inFeatures()));
            rows.put(path, 0L);
        }
        BatchLoader loader = BatchLoader.forEvaluation(images, input.preprocessing(), BATCH);
        float[] host = new float[BATCH * loader.imageFloats()];
        int[] labels = new int[BATCH];
        Tensor device = backend.allocate(BATCH * dense.config().imageSize());
        BatchLoader.Epoch epoch = loader.epoch(0);
        for (int b = 0; b < loader.batchesPerEpoch(); b++) {
            int n = epoch.fill(b, host, labels);
            Tensor in = device.head((long) n * dense.config().imageSize());
            backend.upload(host, 0, in);
            // the split pass runs whole (no batch lanes) and keeps each layer's input buffer
            dense.forwardFrom(dense.forwardTo(in, n, 0), n, 0);
            for (var e : layers.entrySet()) {
                Linear l = e.getValue();
                int f = l.inFeatures();
                backend.gemm(true, false, f, f, l.lastRows(), 1f, l.lastInput(), f, l.lastInput(), f, 1f,
                        sums.get(e.getKey()), f);
                rows.merge(e.getKey(), (long) l.lastRows(), Long::sum);
            }
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        for (var e : sums.entrySet()) {
            float[] s = backend.download(e.getValue());
            long n = Math.max(1, rows.get(e.getKey()));
            double[] c = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                c[i] = s[i] / (double) n;
            }
            out.put(e.getKey(), c);
        }
        return out;
    }

    /** The dense linear module at {@code path} of {@code model}. */
    public static Linear denseLayer(VisionTransformer model, String path) {
        LinearLayer l = model.linears().get(path);
        if (!(l instanceof Linear d)) {
            throw new IllegalArgumentException(path + " of the model is not a dense linear layer");
        }
        return d;
    }
}
