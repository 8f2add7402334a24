package dev.flora.engine.nn;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.Compare.toFloat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.reference.FiniteDifference;
import dev.flora.engine.reference.Ref;
import dev.flora.engine.tensor.Tensor;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Layer by layer: forward against the double reference, dx and every parameter gradient
 * against finite differences of L = Σ g ⊙ layer(x). Odd sizes on purpose.
 */
class LayerGradientTest {
    private final Backend backend = new CpuBackend();
    private final Random rng = new Random(11);

    private double[] rand(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = rng.nextDouble() * 2 - 1;
        }
        return toDouble(toFloat(v));
    }

    private Tensor put(double[] v) {
        Tensor t = backend.allocate(v.length);
        backend.upload(toFloat(v), 0, t);
        return t;
    }

    private void set(Param p, double[] v) {
        backend.upload(toFloat(v), 0, p.value());
    }

    @Test
    void lowRankLinearAtReducedRank() {
        int rows = 7;
        int in = 13;
        int out = 11;
        int maxRank = 9;
        int r = 4;
        ParameterArena.Builder b = new ParameterArena.Builder();
        LowRankLinear l = new LowRankLinear(backend, b, "m", in, out, maxRank);
        ParameterArena arena = b.build(backend);
        double[] vt = rand(maxRank * in);
        double[] u = rand(out * maxRank);
        double[] bias = rand(out);
        set(l.vt(), vt);
        set(l.u(), u);
        set(l.bias(), bias);
        l.setRank(r);
        double[] x = rand(rows * in);
        double[] g = rand(rows * out);
        Tensor y = l.forward(put(x), rows);
        assertClose("low-rank forward", backend.download(y),
                Ref.lowRankLinear(x, vt, u, bias, rows, in, out, maxRank, r), 1e-5);
        assertEquals((long) r * (in + out), l.macsPerRow());
        arena.zeroGrads();
        Tensor dx = l.backward(put(g));
        Function<double[][], Double> loss = a -> Ref.dot(g, Ref.lowRankLinear(a[0], a[1], a[2], a[3], rows, in, out,
                maxRank, r));
        double[][] args = {x, vt, u, bias};
        String[] names = {"dx", "dVT", "dU", "db"};
        float[][] got = {backend.download(dx), backend.download(l.vt().grad()), backend.download(l.u().grad()),
            backend.download(l.bias().grad())};
        for (int i = 0; i < args.length; i++) {
            int which = i;
            double[] fd = FiniteDifference.gradient(args[i].clone(), v -> {
                double[][] a = args.clone();
                a[which] = v;
                return loss.apply(a);
            }, 1e-5);
            assertClose("low-rank " + names[i], got[i], fd, 1e-4);
        }
    }

    @Test
    void fullRankFactorsReproduceTheDenseLayer() {
        int rows = 5;
        int in = 6;
        int out = 9;
        int k = Math.min(in, out);
        ParameterArena.Builder b = new ParameterArena.Builder();
        Linear dense = new Linear(backend, b, "d", in, out);
        LowRankLinear lr = new LowRankLinear(backend, b, "l", in, out, k);
        b.build(backend);
        double[] vt = rand(k * in);
        double[] u = rand(out * k);
        double[] w = new double[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                for (int j = 0; j < k; j++) {
                    w[o * in + i] += u[o * k + j] * vt[j * in + i];
                }
            }
        }
        double[] bias = rand(out);
        set(dense.weight(), w);
        set(dense.bias(), bias);
        set(lr.vt(), vt);
        set(lr.u(), u);
        set(lr.bias(), bias);
        Tensor x = put(rand(rows * in));
        assertClose("U·VT equals W", backend.download(lr.forward(x, rows)),
                toDouble(backend.download(dense.forward(x, rows))), 1e-5);
    }

    @Test
    void attentionLayer() {
        int batch = 2;
        int tokens = 5;
        int dim = 6;
        int heads = 3;
        ParameterArena.Builder b = new ParameterArena.Builder();
        LinearFactory f = (path, in, out) -> new Linear(backend, b, path, in, out);
        Attention att = new Attention(backend, "a", dim, heads, f);
        ParameterArena arena = b.build(backend);
        double[] wq = rand(3 * dim * dim);
        double[] bq = rand(3 * dim);
        double[] wp = rand(dim * dim);
        double[] bp = rand(dim);
        set(((Linear) att.qkv()).weight(), wq);
        set(((Linear) att.qkv()).bias(), bq);
        set(((Linear) att.proj()).weight(), wp);
        set(((Linear) att.proj()).bias(), bp);
        int rows = batch * tokens;
        double[] x = rand(rows * dim);
        double[] g = rand(rows * dim);
        Function<double[], double[]> ref = v -> Ref.linear(Ref.attentionCore(Ref.linear(v, wq, bq, rows, dim, 3 * dim),
                batch, tokens, dim, heads), wp, bp, rows, dim, dim);
        assertClose("attention forward", backend.download(att.forward(put(x), batch, tokens, null)), ref.apply(x), 1e-5);
        arena.zeroGrads();
        Tensor dx = att.backward(put(g));
        assertClose("attention dx", backend.download(dx),
                FiniteDifference.gradient(x.clone(), v -> Ref.dot(g, ref.apply(v)), 1e-5), 1e-4);
        double[] fdq = FiniteDifference.gradient(wq.clone(), v -> Ref.dot(g, Ref.linear(Ref.attentionCore(
                Ref.linear(x, v, bq, rows, dim, 3 * dim), batch, tokens, dim, heads), wp, bp, rows, dim, dim)), 1e-5);
        assertClose("attention dWqkv", backend.download(((Linear) att.qkv()).weight().grad()), fdq, 1e-4);
    }

    @Test
    void mlpLayer() {
        int rows = 6;
        int dim = 5;
        int hidden = 11;
        ParameterArena.Builder b = new ParameterArena.Builder();
        LinearFactory f = (path, in, out) -> new Linear(backend, b, path, in, out);
        Mlp mlp = new Mlp(backend, "m", dim, hidden, f);
        ParameterArena arena = b.build(backend);
        double[] w1 = rand(hidden * dim);
        double[] b1 = rand(hidden);
        double[] w2 = rand(dim * hidden);
        double[] b2 = rand(dim);
        set(((Linear) mlp.fc1()).weight(), w1);
        set(((Linear) mlp.fc1()).bias(), b1);
        set(((Linear) mlp.fc2()).weight(), w2);
        set(((Linear) mlp.fc2()).bias(), b2);
        double[] x = rand(rows * dim);
        double[] g = rand(rows * dim);
        Function<double[], double[]> ref = v -> Ref.linear(Ref.gelu(Ref.linear(v, w1, b1, rows, dim, hidden)), w2, b2,
                rows, hidden, dim);
        assertClose("mlp forward", backend.download(mlp.forward(put(x), rows, null)), ref.apply(x), 1e-5);
        arena.zeroGrads();
        assertClose("mlp dx", backend.download(mlp.backward(put(g))),
                FiniteDifference.gradient(x.clone(), v -> Ref.dot(g, ref.apply(v)), 1e-5), 1e-4);
        double[] fd1 = FiniteDifference.gradient(w1.clone(), v -> Ref.dot(g, Ref.linear(Ref.gelu(Ref.linear(x, v, b1,
                rows, dim, hidden)), w2, b2, rows, hidden, dim)), 1e-5);
        assertClose("mlp dW1", backend.download(((Linear) mlp.fc1()).weight().grad()), fd1, 1e-4);
    }
}
