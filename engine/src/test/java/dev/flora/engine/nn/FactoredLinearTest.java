package dev.flora.engine.nn;

import static dev.flora.engine.reference.Compare.assertClose;
import static dev.flora.engine.reference.Compare.toDouble;
import static dev.flora.engine.reference.Compare.toFloat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.reference.FiniteDifference;
import dev.flora.engine.reference.Ref;
import dev.flora.engine.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** LoRITa's product-of-factors linear: gradients by finite differences, forward as the merged dense layer, init scale. */
class FactoredLinearTest {
    private final Backend backend = backend();
    private final Random rng = new Random(5);

    protected Backend backend() {
        return new CpuBackend();
    }

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

    /** The product F0 · … · F(N-1) in double, factor i of shape dims[i] × dims[i+1]. */
    private static double[] product(double[][] f, int[] dims) {
        double[] left = f[0];
        for (int i = 1; i < f.length; i++) {
            int m = dims[0];
            int k = dims[i];
            int n = dims[i + 1];
            double[] p = new double[m * n];
            for (int a = 0; a < m; a++) {
                for (int c = 0; c < k; c++) {
                    for (int b = 0; b < n; b++) {
                        p[a * n + b] += left[a * k + c] * f[i][c * n + b];
                    }
                }
            }
            left = p;
        }
        return left;
    }

    @ParameterizedTest
    @CsvSource({"2, 7, 5", "2, 5, 9", "3, 7, 5", "3, 6, 11"})
    void gradientsOfEveryFactorMatchFiniteDifferences(int depth, int in, int out) {
        int rows = 4;
        ParameterArena.Builder b = new ParameterArena.Builder();
        FactoredLinear l = new FactoredLinear(backend, b, "m", in, out, depth);
        ParameterArena arena = b.build(backend);
        int k = Math.min(in, out);
        assertEquals(k, l.inner());
        int[] dims = new int[depth + 1];
        java.util.Arrays.fill(dims, k);
        dims[0] = out;
        dims[depth] = in;
        double[][] args = new double[depth + 2][];
        args[0] = rand(rows * in);
        for (int i = 0; i < depth; i++) {
            args[i + 1] = rand(dims[i] * dims[i + 1]);
            backend.upload(toFloat(args[i + 1]), 0, l.factor(i).value());
        }
        args[depth + 1] = rand(out);
        backend.upload(toFloat(args[depth + 1]), 0, l.bias().value());
        double[] g = rand(rows * out);
        java.util.function.Function<double[][], double[]> ref = a -> Ref.linear(a[0],
                product(java.util.Arrays.copyOfRange(a, 1, depth + 1), dims), a[depth + 1], rows, in, out);
        assertClose("forward", backend.download(l.forward(put(args[0]), rows)), ref.apply(args), 1e-5);
        arena.zeroGrads();
        Tensor dx = l.backward(put(g));
        float[][] got = new float[depth + 2][];
        got[0] = backend.download(dx);
        for (int i = 0; i < depth; i++) {
            got[i + 1] = backend.download(l.factor(i).grad());
        }
        got[depth + 1] = backend.download(l.bias().grad());
        for (int i = 0; i < args.length; i++) {
            int which = i;
            double[] fd = FiniteDifference.gradient(args[i].clone(), v -> {
                double[][] a = args.clone();
                a[which] = v;
                return Ref.dot(g, ref.apply(a));
            }, 1e-5);
            assertClose("gradient of argument " + i + " (0 = x, last = bias)", got[i], fd, 1e-4);
        }
    }

    @Test
    void forwardEqualsTheDenseLayerWithTheMergedWeight() {
        int rows = 5;
        int in = 9;
        int out = 6;
        ParameterArena.Builder b = new ParameterArena.Builder();
        FactoredLinear f = new FactoredLinear(backend, b, "f", in, out, 3);
        Linear dense = new Linear(backend, b, "d", in, out);
        b.build(backend);
        for (int i = 0; i < 3; i++) {
            backend.upload(toFloat(rand(Math.toIntExact(f.factor(i).numel()))), 0, f.factor(i).value());
        }
        float[] bias = toFloat(rand(out));
        backend.upload(bias, 0, f.bias().value());
        backend.upload(bias, 0, dense.bias().value());
        backend.copy(f.mergedWeight(), dense.weight().value());
        Tensor x = put(rand(rows * in));
        assertClose("factored forward equals dense with W = F0·F1·F2", backend.download(f.forward(x, rows)),
                toDouble(backend.download(dense.forward(x, rows))), 1e-5);
    }

    @Test
    void specBuildsFactoredTargetsAndTheirProductStartsAtTheDenseInitScale() {
        ViTConfig cfg = new ViTConfig(8, 4, 2, 32, 1, 2, 4.0, 3, new double[] {0.5, 0.5}, new double[] {0.25, 0.25});
        Map<String, LinearSpec> specs = new HashMap<>();
        specs.put("blocks.0.mlp.fc1", new LinearSpec.Factored(3));
        VisionTransformer model = new VisionTransformer(backend, cfg, specs);
        ViTInitializer.initialize(model, 1);
        FactoredLinear fc1 = assertInstanceOf(FactoredLinear.class, model.linears().get("blocks.0.mlp.fc1"));
        assertTrue(model.arena().contains("blocks.0.mlp.fc1.factors.2.weight"));
        assertTrue(model.arena().contains("blocks.0.mlp.fc1.bias"));
        assertTrue(model.arena().get("blocks.0.mlp.fc1.factors.1.weight").decay(), "weight decay applies to factors");
        float[] w = backend.download(fc1.mergedWeight());
        double sq = 0;
        for (float v : w) {
            sq += v * v;
        }
        double std = Math.sqrt(sq / w.length);
        // the dense init: normal(0, 0.02) truncated at 2σ, whose standard deviation is 0.0176
        assertEquals(0.0176, std, 0.003, "std of the merged product at init");
    }
}
