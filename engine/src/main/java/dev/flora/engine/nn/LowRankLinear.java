package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LinearProduct;
import dev.flora.engine.tensor.Tensor;

/**
 * Factorized linear layer y = (x · VT[:r, :]ᵀ) · U[:, :r]ᵀ + b, with VT [R, in] and U [out, R]
 * stored at the largest rank R and used at an active rank r ≤ R. All ranks share the leading
 * slices (FLORA's weight inheritance): backward writes only VT[:r, :] and U[:, :r].
 * Stored as {@code path.VT.weight}, {@code path.U.weight}, {@code path.U.bias}, the FLORA
 * reference names.
 */
public final class LowRankLinear implements RankedLinear {
    private final Backend backend;
    private final String path;
    private final int in;
    private final int out;
    private final int maxRank;
    private final Param vt;
    private final Param u;
    private final Param bias;
    private final GrowableBuffer h;
    private final GrowableBuffer y;
    private final GrowableBuffer dh;
    private final GrowableBuffer dx;
    private int rank;
    private Tensor x;
    private Tensor hLast;
    private int rows;
    /** The rank of the last forward, which backward must use even if setRank was called since. */
    private int forwardRank;

    public LowRankLinear(Backend backend, ParameterArena.Builder params, String path, int in, int out, int maxRank) {
        if (maxRank < 1) {
            throw new IllegalArgumentException(path + ": max rank must be at least 1, got " + maxRank);
        }
        this.backend = backend;
        this.path = path;
        this.in = in;
        this.out = out;
        this.maxRank = maxRank;
        this.rank = maxRank;
        this.vt = params.weight(path + ".VT.weight", maxRank, in);
        this.u = params.weight(path + ".U.weight", out, maxRank);
        this.bias = params.noDecay(path + ".U.bias", out);
        this.h = GrowableBuffer.blockActivation(backend, path, "h");
        this.y = GrowableBuffer.blockActivation(backend, path, "y");
        this.dh = GrowableBuffer.blockGradient(backend, path, "dh");
        this.dx = GrowableBuffer.blockGradient(backend, path, "dx");
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return out;
    }

    @Override
    public int maxRank() {
        return maxRank;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public boolean supportsRank(int r) {
        return r >= 1 && r <= maxRank;
    }

    /** Selects the active rank r, 1 ≤ r ≤ R. */
    @Override
    public void setRank(int r) {
        if (r < 1 || r > maxRank) {
            throw new IllegalArgumentException(path + ": rank " + r + " outside [1, " + maxRank + "]");
        }
        this.rank = r;
    }

    @Override
    public long macsPerRow() {
        return (long) rank * (in + out);
    }

    public Param vt() {
        return vt;
    }

    public Param u() {
        return u;
    }

    public Param bias() {
        return bias;
    }

    /** h [rows, r] = x · VT[:r]ᵀ, then y [rows, out] = h · U[:, :r]ᵀ + b (+ residual). */
    @Override
    public Tensor forward(Tensor x, int rows, Tensor residual) {
        this.x = x;
        this.rows = rows;
        int r = rank;
        Tensor ht = h.get((long) rows * r);
        Tensor yt = y.get((long) rows * out);
        backend.lowRankForward(x, vt.value(), u.value(), bias.value(), residual, ht, yt, rows, in, out, r, maxRank);
        this.hLast = ht;
        this.forwardRank = r;
        return yt;
    }

    @Override
    public LinearProduct inferenceProduct() {
        return new LinearProduct.LowRank(vt.value(), u.value(), bias.value(), in, out, rank, maxRank);
    }

    /** Gradients land in U[:, :r], VT[:r, :] and b only; returns dx [rows, in]. */
    @Override
    public Tensor backward(Tensor dy) {
        int r = forwardRank;
        Tensor dht = dh.get((long) rows * r);
        Tensor dxt = dx.get((long) rows * in);
        backend.lowRankBackward(dy, x, hLast, vt.value(), u.value(), dht, dxt, vt.grad(), u.grad(), bias.grad(),
                rows, in, out, r, maxRank);
        return dxt;
    }
}
