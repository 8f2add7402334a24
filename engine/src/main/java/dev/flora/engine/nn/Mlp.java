package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.LinearProduct;
import dev.flora.engine.tensor.Tensor;

/** The transformer MLP: fc2(GELU(fc1(x))), with exact erf GELU as timm. */
public final class Mlp {
    private final Backend backend;
    private final LinearLayer fc1;
    private final LinearLayer fc2;
    private final GrowableBuffer act;
    private final GrowableBuffer dAct;
    /** The fused forward's output ({@code Backend.mlpForward}); fc2 owns it otherwise. */
    private final GrowableBuffer out;
    private Tensor pre;
    private int rows;

    public Mlp(Backend backend, String path, int dim, int hidden, LinearFactory linears) {
        this.backend = backend;
        this.fc1 = linears.create(path + ".fc1", dim, hidden);
        this.fc2 = linears.create(path + ".fc2", hidden, dim);
        this.act = GrowableBuffer.blockActivation(backend, path, "act");
        this.out = GrowableBuffer.blockActivation(backend, path, "out");
        this.dAct = GrowableBuffer.blockGradient(backend, path, "dAct");
    }

    public LinearLayer fc1() {
        return fc1;
    }

    public LinearLayer fc2() {
        return fc2;
    }

    /** [rows, dim] to [rows, dim], plus {@code residual} (when not null) added by fc2. */
    public Tensor forward(Tensor x, int rows, Tensor residual) {
        return forward(null, x, rows, residual);
    }

    /** As above on norm(x) (x itself where norm is null). */
    public Tensor forward(LayerNorm norm, Tensor x, int rows, Tensor residual) {
        this.rows = rows;
        // an inference backend may run the norm and both products as one op: GELU as fc1's
        // product is written, and the normalized rows and the 4·dim columns kept where the next
        // product reads them
        LinearProduct p1 = backend.fusesMlp() ? fc1.inferenceProduct() : null;
        LinearProduct p2 = p1 != null ? fc2.inferenceProduct() : null;
        if (p2 != null) {
            pre = null;
            Tensor y = out.get((long) rows * fc2.outFeatures());
            backend.mlpForward(x, norm == null ? null : norm.weights(), p1, p2, residual, y, rows);
            return y;
        }
        pre = fc1.forward(norm == null ? x : norm.forward(x, rows), rows);
        long n = (long) rows * fc1.outFeatures();
        Tensor a = act.get(n);
        backend.geluForward(pre, a, n);
        return fc2.forward(a, rows, residual);
    }

    public Tensor backward(Tensor dy) {
        Tensor da = fc2.backward(dy);
        long n = (long) rows * fc1.outFeatures();
        Tensor dpre = dAct.get(n);
        backend.geluBackward(pre, da, dpre, n);
        return fc1.backward(dpre);
    }
}
