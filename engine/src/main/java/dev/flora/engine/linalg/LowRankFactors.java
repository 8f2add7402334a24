package dev.flora.engine.linalg;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;

/**
 * The SVD factors of a weight W [out, in] in FLORA's convention (singular values folded into
 * the first factor): W = U · VT with VT = diag(s) · Vᵀ [k, in] and U [out, k], k = min(out, in),
 * singular values descending. The rank-r truncation is VT[:r, :] and U[:, :r], the best rank-r
 * approximation of W in the Frobenius norm (Eckart–Young).
 */
public record LowRankFactors(int out, int in, float[] vt, float[] u, float[] singularValues) {

    /** Factorizes W [out, in] (row-major, held on {@code backend}) with the backend's SVD. */
    public static LowRankFactors of(Backend backend, Tensor w, int out, int in) {
        int k = Math.min(out, in);
        Tensor u = backend.allocate(out, k);
        Tensor s = backend.allocate(k);
        Tensor vt = backend.allocate(k, in);
        backend.svd(w, out, in, u, s, vt);
        float[] sv = backend.download(s);
        float[] vtHost = backend.download(vt);
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < in; j++) {
                vtHost[i * in + j] *= sv[i];
            }
        }
        return new LowRankFactors(out, in, vtHost, backend.download(u), sv);
    }

    public int fullRank() {
        return Math.min(out, in);
    }

    /** VT[:r, :], row-major [r, in]. */
    public float[] vtRows(int r) {
        checkRank(r);
        return java.util.Arrays.copyOf(vt, r * in);
    }

    /** U[:, :r], row-major [out, r]. */
    public float[] uColumns(int r) {
        checkRank(r);
        int k = fullRank();
        float[] o = new float[out * r];
        for (int i = 0; i < out; i++) {
            System.arraycopy(u, i * k, o, i * r, r);
        }
        return o;
    }

    private void checkRank(int r) {
        if (r < 1 || r > fullRank()) {
            throw new IllegalArgumentException("rank " + r + " outside [1, " + fullRank() + "]");
        }
    }
}
