package dev.flora.calibration;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.linalg.LowRankFactors;
import dev.flora.engine.nn.Linear;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SVD-LLM's truncation-aware factors of a weight W [out, in] (y = x·Wᵀ): the SVD of W·L, where
 * L·Lᵀ is the input covariance ({@link Whitening}), mapped back as U = P and VT = Σ·Qᵀ·L⁻¹. Then
 * U[:, :r]·VT[:r] is the rank-r matrix with the least output error on the calibration inputs,
 * and that error is the tail Σ_{i≥r} σᵢ² of W·L's spectrum (which the factors carry as their
 * singular values). Full rank gives W back.
 */
public final class ActivationAwareFactors {
    private ActivationAwareFactors() {
    }

    /** The factors of each dense module in {@code paths} of {@code dense}, under its input covariance. */
    public static Map<String, LowRankFactors> of(VisionTransformer dense, Map<String, double[]> covariances,
                                                 List<String> paths) {
        Map<String, LowRankFactors> factors = new LinkedHashMap<>();
        for (String path : paths) {
            double[] c = covariances.get(path);
            if (c == null) {
                throw new IllegalArgumentException("no input covariance of " + path + " (calibration did not cover it)");
            }
            factors.put(path, of(dense.backend(), InputCovariance.denseLayer(dense, path), c));
        }
        return factors;
    }

    /** The factors of {@code layer}'s weight under the input covariance {@code covariance} [in, in]. */
    public static LowRankFactors of(Backend backend, Linear layer, double[] covariance) {
        int in = layer.inFeatures();
        return of(backend, layer.weight().value(), layer.outFeatures(), in, Whitening.of(covariance, in));
    }

    /** The factors of {@code w} [out, in] (on {@code backend}) under the input whitening {@code s}. */
    public static LowRankFactors of(Backend backend, Tensor w, int out, int in, Whitening s) {
        if (s.n() != in) {
            throw new IllegalArgumentException("a whitening of " + s.n() + " inputs for a layer of " + in);
        }
        int k = Math.min(out, in);
        Tensor l = upload(backend, s.lower(), in * in);
        Tensor wl = backend.allocate(out, in);
        backend.gemm(false, false, out, in, in, 1f, w, in, l, in, 0f, wl, in);
        Tensor p = backend.allocate(out, k);
        Tensor sigma = backend.allocate(k);
        Tensor qt = backend.allocate(k, in);
        backend.svd(wl, out, in, p, sigma, qt);
        Tensor vt = backend.allocate(k, in);
        backend.gemm(false, false, k, in, in, 1f, qt, in, upload(backend, s.lowerInverse(), in * in), in, 0f, vt, in);
        float[] sv = backend.download(sigma);
        float[] vtHost = backend.download(vt);
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < in; j++) {
                vtHost[i * in + j] *= sv[i];
            }
        }
        return new LowRankFactors(out, in, vtHost, backend.download(p), sv);
    }

    /** The first {@code n} of {@code values} as a float tensor on {@code backend} (covariances and their factors). */
    public static Tensor upload(Backend backend, double[] values, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) values[i];
        }
        Tensor t = backend.allocate(n);
        backend.upload(f, 0, t);
        return t;
    }
}
