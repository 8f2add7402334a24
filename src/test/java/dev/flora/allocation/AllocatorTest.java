package dev.flora.allocation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.calibration.ActivationAwareFactors;
import dev.flora.calibration.InputCovariance;
import dev.flora.calibration.Whitening;
import dev.flora.config.Method;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.linalg.LowRankFactors;
import dev.flora.engine.nn.Linear;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.models.ModelInput;
import dev.flora.models.ModelPreprocessing;
import dev.flora.models.ModelSource;
import dev.flora.space.CostModel;
import dev.flora.space.SearchSpace;
import dev.flora.supernet.SubnetExport;
import dev.flora.supernet.Supernet;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The four allocations on a small PyTorch-trained backbone (the golden fixture) and 64 calibration
 * images of the bundled data, and activation-aware against plain SVD on synthetic correlated inputs.
 */
class AllocatorTest {
    private static final Backend BACKEND = new CpuBackend();
    private static VisionTransformer dense;
    private static ModelInput input;
    private static SearchSpace space;
    private static Map<String, double[]> covariances;

    @BeforeAll
    static void calibrate() throws Exception {
        Path file = Path.of(AllocatorTest.class.getResource("/golden/timm_vit_tiny_fmnist.safetensors").toURI());
        ModelSource.LoadedModel loaded = ModelSource.open(file.toString(), BACKEND, OptionalInt.empty());
        dense = loaded.model();
        input = ModelInput.of(loaded, ModelPreprocessing.Overrides.none(), s -> { });
        space = SearchSpace.defaults(dense.config(), false);
        ImageSource images = Datasets.first(Datasets.trainPart(Datasets.load(Datasets.BUNDLED_FMNIST).trainFile()), 64);
        covariances = InputCovariance.collect(dense, input, images, space.modulePaths());
    }

    private static long budget(double fraction) {
        return Math.round(fraction * CostModel.denseMacs(dense.config()));
    }

    @Test
    void everyMethodMeetsTheTargetAndItsExportCountsTheSameFlops() {
        for (double target : new double[] {0.5, 0.7}) {
            for (AllocationMethod m : AllocationMethod.values()) {
                Allocator.Allocation a = Allocator.allocate(m, dense, space, budget(target), covariances);
                assertTrue(a.macs() <= budget(target), m + " at " + target + ": " + a.macs() + " > " + budget(target));
                // the bisection lands near the target, not anywhere below it
                assertTrue(a.macs() >= budget(target - 0.1), m + " at " + target + ": only " + a.macs());
                VisionTransformer sub = SubnetExport.export(Supernet.fromDense(dense, input, space, Method.LRAT,
                        a.factors()), a.ranks());
                assertEquals(a.macs(), sub.macsPerImage(), m.label());
            }
        }
    }

    @Test
    void globalThresholdKeepsExactlyTheSingularValuesAboveOneSharedCutoff() {
        Allocator.Allocation a = Allocator.allocate(AllocationMethod.GLOBAL_THRESHOLD, dense, space, budget(0.35),
                covariances);
        assertTrue(a.macs() <= budget(0.35) && a.macs() >= budget(0.3), "near the target: " + a.macs());
        double max = a.factors().values().stream().mapToDouble(f -> f.singularValues()[0]).max().orElseThrow();
        double cutoff = a.threshold() * max;
        for (Map.Entry<String, Integer> e : a.ranks().entrySet()) {
            float[] s = a.factors().get(e.getKey()).singularValues();
            int r = e.getValue();
            assertTrue(r == 1 || s[r - 1] >= cutoff * (1 - 1e-6), e.getKey() + ": kept one below the cutoff");
            assertTrue(r == s.length || s[r] < cutoff * (1 + 1e-6), e.getKey() + ": dropped one above the cutoff");
        }
        assertTrue(a.ranks().values().stream().distinct().count() > 1, "ranks differ between modules");
    }

    @Test
    void globalThresholdKeepsMoreRankWhereTheSpectrumDecaysSlower() {
        double[] slow = new double[16];
        double[] fast = new double[16];
        for (int i = 0; i < 16; i++) {
            slow[i] = Math.pow(0.9, 2 * i);
            fast[i] = Math.pow(0.5, 2 * i);
        }
        java.util.List<Spectrum> relative = Allocator.relativeSingularValues(java.util.List.of(
                new Spectrum("slow", slow), new Spectrum("fast", fast)));
        ThresholdBisection.Found f = ThresholdBisection.atMost(relative, Spectrum::rankAbove,
                r -> r.values().stream().mapToLong(Integer::longValue).sum(), 12, 32);
        assertEquals(12, f.cost());
        assertTrue(f.ranks().get("slow") > 2 * f.ranks().get("fast"), f.ranks().toString());
    }

    @Test
    void aTargetBelowTheSmallestSubnetIsRefused() {
        for (AllocationMethod m : AllocationMethod.values()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Allocator.allocate(m, dense, space, budget(0.01), covariances));
            assertTrue(e.getMessage().contains("smallest"), e.getMessage());
        }
    }

    @Test
    void svdEnergyRanksGrowWithTau() {
        Allocator.Allocation low = Allocator.allocate(AllocationMethod.SVD_ENERGY, dense, space, budget(0.4),
                covariances);
        Allocator.Allocation high = Allocator.allocate(AllocationMethod.SVD_ENERGY, dense, space, budget(0.8),
                covariances);
        assertTrue(high.threshold() > low.threshold(), low.threshold() + " vs " + high.threshold());
        int grew = 0;
        for (String path : low.ranks().keySet()) {
            assertTrue(high.ranks().get(path) >= low.ranks().get(path), path);
            grew += high.ranks().get(path) - low.ranks().get(path);
        }
        assertTrue(grew > 0, "a larger tau keeps more components somewhere");
        // and per module, on a fine grid of tau
        for (String path : low.ranks().keySet()) {
            Spectrum s = new Spectrum(path, squares(low.factors().get(path).singularValues()));
            int previous = 0;
            for (double tau = 0; tau <= 1.0; tau += 0.01) {
                int r = s.rankForEnergy(tau);
                assertTrue(r >= previous, path + " at tau " + tau);
                previous = r;
            }
            assertEquals(s.fullRank(), s.rankForEnergy(1.0), path);
        }
    }

    @Test
    void greedyOutputErrorsAreUnderTheThresholdFoundAndTheRanksAreTheSmallest() {
        Allocator.Allocation a = Allocator.allocate(AllocationMethod.GREEDY, dense, space, budget(0.5), covariances);
        double epsilon = a.threshold();
        assertTrue(epsilon > 0 && epsilon < 1, "epsilon " + epsilon);
        for (var e : a.ranks().entrySet()) {
            Linear layer = (Linear) dense.linears().get(e.getKey());
            float[] w = BACKEND.download(layer.weight().value());
            LowRankFactors f = a.factors().get(e.getKey());
            double[] c = covariances.get(e.getKey());
            int r = e.getValue();
            double err = relativeOutputError(w, f, r, c);
            assertTrue(err <= epsilon + 1e-4, e.getKey() + " at rank " + r + ": error " + err + " > " + epsilon);
            if (r > 1) {
                double fewer = relativeOutputError(w, f, r - 1, c);
                assertTrue(fewer > epsilon - 1e-4, e.getKey() + ": rank " + (r - 1) + " is already within epsilon");
            }
        }
    }

    @Test
    void activationAwareHasLessOutputErrorThanPlainSvdOnCorrelatedInputs() {
        int out = 24;
        int in = 16;
        int rows = 500;
        Random rnd = new Random(3);
        float[] w = gaussian(rnd, out * in, 1);
        // inputs mixed from a few strong and many weak directions: far from white
        double[] mix = new double[in * in];
        for (int i = 0; i < in; i++) {
            double scale = i < 3 ? 10 : 0.3;
            for (int j = 0; j < in; j++) {
                mix[i * in + j] = scale * rnd.nextGaussian();
            }
        }
        double[] x = new double[rows * in];
        for (int n = 0; n < rows; n++) {
            for (int i = 0; i < in; i++) {
                double z = rnd.nextGaussian();
                for (int j = 0; j < in; j++) {
                    x[n * in + j] += z * mix[i * in + j];
                }
            }
        }
        double[] c = new double[in * in];
        for (int n = 0; n < rows; n++) {
            for (int i = 0; i < in; i++) {
                for (int j = 0; j < in; j++) {
                    c[i * in + j] += x[n * in + i] * x[n * in + j] / rows;
                }
            }
        }
        double[] ridged = c.clone();
        double trace = 0;
        for (int i = 0; i < in; i++) {
            trace += c[i * in + i];
        }
        for (int i = 0; i < in; i++) {
            ridged[i * in + i] += Whitening.RIDGE * trace / in;
        }
        var wt = BACKEND.allocate(out, in);
        BACKEND.upload(w, 0, wt);
        LowRankFactors plain = LowRankFactors.of(BACKEND, wt, out, in);
        LowRankFactors aware = ActivationAwareFactors.of(BACKEND, wt, out, in, Whitening.of(c, in));
        for (int r : new int[] {2, 4, 8}) {
            double p = relativeOutputError(w, plain, r, c);
            double a = relativeOutputError(w, aware, r, c);
            assertTrue(a < 0.7 * p, "rank " + r + ": activation-aware " + a + " vs plain " + p);
            // the spectrum's tail is the error it makes on the covariance it whitened (C plus the ridge)
            double predicted = Math.sqrt(new Spectrum("w", squares(aware.singularValues())).tailFraction(r));
            assertEquals(predicted, relativeOutputError(w, aware, r, ridged), 1e-3 * predicted, "rank " + r);
        }
        assertTrue(relativeOutputError(w, aware, Math.min(out, in), c) < 1e-3, "full rank gives W back");
    }

    @Test
    void whiteningFactorsTheCovariance() {
        double[] c = {4, 2, 0, 2, 3, 1, 0, 1, 2};
        Whitening s = Whitening.of(c, 3);
        double ridge = Whitening.RIDGE * 3;
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                double llt = 0;
                double eye = 0;
                for (int k = 0; k < 3; k++) {
                    llt += s.lower()[i * 3 + k] * s.lower()[j * 3 + k];
                    eye += s.lower()[i * 3 + k] * s.lowerInverse()[k * 3 + j];
                }
                assertEquals(c[i * 3 + j] + (i == j ? ridge : 0), llt, 1e-12);
                assertEquals(i == j ? 1 : 0, eye, 1e-12);
            }
        }
    }

    /**
     * sqrt(tr(Δ·C·Δᵀ) / tr(W·C·Wᵀ)) with Δ = W − U[:, :r]·VT[:r]: the relative output error
     * ‖X·Δᵀ‖ / ‖X·Wᵀ‖ on the inputs of covariance C, from the full matrices.
     */
    static double relativeOutputError(float[] w, LowRankFactors f, int r, double[] c) {
        int out = f.out();
        int in = f.in();
        int k = f.fullRank();
        double[] delta = new double[out * in];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                double s = 0;
                for (int q = 0; q < r; q++) {
                    s += (double) f.u()[i * k + q] * f.vt()[q * in + j];
                }
                delta[i * in + j] = w[i * in + j] - s;
            }
        }
        return Math.sqrt(quadratic(delta, c, out, in) / quadratic(toDouble(w), c, out, in));
    }

    private static double quadratic(double[] m, double[] c, int out, int in) {
        double total = 0;
        for (int i = 0; i < out; i++) {
            for (int a = 0; a < in; a++) {
                double s = 0;
                for (int b = 0; b < in; b++) {
                    s += c[a * in + b] * m[i * in + b];
                }
                total += m[i * in + a] * s;
            }
        }
        return total;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static float[] gaussian(Random rnd, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (scale * rnd.nextGaussian());
        }
        return v;
    }

    static double[] squares(float[] s) {
        double[] d = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            d[i] = (double) s[i] * s[i];
        }
        return d;
    }
}
