package dev.flora.allocation;

import dev.flora.calibration.ActivationAwareFactors;
import dev.flora.calibration.InputCovariance;
import dev.flora.config.Method;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.linalg.LowRankFactors;
import dev.flora.engine.nn.Linear;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import dev.flora.models.ModelInput;
import dev.flora.space.CostModel;
import dev.flora.space.SearchSpace;
import dev.flora.supernet.SubnetExport;
import dev.flora.supernet.Supernet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Chooses the rank of every target module of a dense ViT so that the subnet costs at most a
 * FLOPs budget, by one of the {@link AllocationMethod}s, and the factors each module is truncated
 * from. Ranks are any integers in [1, min(in, out)]: the cost model and the export take them as
 * they are, off the search space's ratio grid.
 */
public final class Allocator {
    private Allocator() {
    }

    /**
     * What an allocation chose: the ranks (path to rank, model order), the full-rank factors
     * each is a truncation of, the threshold found (named by the method), and the FLOPs.
     */
    public record Allocation(AllocationMethod method, Map<String, Integer> ranks, Map<String, LowRankFactors> factors,
                             double threshold, long macs) {
        /**
         * The allocated subnet of {@code dense} (whose config {@code space} is over) as a standalone
         * model, factorized where that saves FLOPs, as {@code flora export} writes one.
         */
        public VisionTransformer export(VisionTransformer dense, ModelInput input, SearchSpace space) {
            return SubnetExport.export(Supernet.fromDense(dense, input, space, Method.LRAT, factors), ranks);
        }
    }

    /**
     * @param covariances input covariance of every target module (path to C [in, in]), from
     *     {@link InputCovariance}; only read by the methods that are {@link AllocationMethod#calibrated}
     * @throws IllegalArgumentException when no subnet of rank ≥ 1 everywhere meets {@code budget}
     */
    public static Allocation allocate(AllocationMethod method, VisionTransformer dense, SearchSpace space, long budget,
                                      Map<String, double[]> covariances) {
        CostModel cost = new CostModel(space);
        long denseMacs = CostModel.denseMacs(space.config());
        Backend backend = dense.backend();
        Map<String, LowRankFactors> factors = new LinkedHashMap<>();
        List<Spectrum> spectra = new ArrayList<>();
        for (String path : space.modulePaths()) {
            Linear layer = InputCovariance.denseLayer(dense, path);
            LowRankFactors f = switch (method) {
                case ACTIVATION_AWARE -> ActivationAwareFactors.of(backend, layer, covariance(covariances, path));
                default -> LowRankFactors.of(backend, layer.weight().value(), layer.outFeatures(), layer.inFeatures());
            };
            factors.put(path, f);
            spectra.add(new Spectrum(path, switch (method) {
                case GREEDY -> outputEnergies(backend, f, covariance(covariances, path));
                default -> squares(f.singularValues());
            }));
        }
        if (method == AllocationMethod.UNIFORM) {
            Map<String, Integer> ranks = cost.uniformAtMost(budget);
            return new Allocation(method, ranks, factors, uniformRatio(space, ranks), cost.macs(ranks));
        }
        if (method == AllocationMethod.GLOBAL_THRESHOLD) {
            List<Spectrum> relative = relativeSingularValues(spectra);
            ThresholdBisection.Found found = ThresholdBisection.atMost(relative, Spectrum::rankAbove, cost::macs,
                    budget, denseMacs);
            return new Allocation(method, found.ranks(), factors, found.tail(), found.cost());
        }
        ThresholdBisection.Found found = ThresholdBisection.atMost(spectra, cost::macs, budget, denseMacs);
        double threshold = method == AllocationMethod.GREEDY ? Math.sqrt(found.tail()) : 1 - found.tail();
        return new Allocation(method, found.ranks(), factors, threshold, found.cost());
    }

    private static double[] covariance(Map<String, double[]> covariances, String path) {
        double[] c = covariances.get(path);
        if (c == null) {
            throw new IllegalArgumentException("no input covariance of " + path + " (calibration did not run)");
        }
        return c;
    }

    /** σᵢ / σ_max of every module, from spectra of σᵢ², σ_max the largest over all of them: one comparable scale. */
    static List<Spectrum> relativeSingularValues(List<Spectrum> squared) {
        double max = 0;
        for (Spectrum s : squared) {
            for (double w : s.weights()) {
                max = Math.max(max, Math.sqrt(w));
            }
        }
        List<Spectrum> out = new ArrayList<>();
        for (Spectrum s : squared) {
            double[] w = s.weights();
            double[] rel = new double[w.length];
            for (int i = 0; i < w.length; i++) {
                rel[i] = max > 0 ? Math.sqrt(w[i]) / max : 0;
            }
            out.add(new Spectrum(s.path(), rel));
        }
        return out;
    }

    private static double[] squares(float[] s) {
        double[] out = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = (double) s[i] * s[i];
        }
        return out;
    }

    /**
     * ‖X·(σᵢvᵢ)‖² / n = (σᵢvᵢ)ᵀ·C·(σᵢvᵢ) for each row of VT: since U's columns are orthonormal,
     * the output error of a truncation of the weight's SVD is exactly the sum of the dropped ones.
     */
    static double[] outputEnergies(Backend backend, LowRankFactors f, double[] covariance) {
        int k = f.fullRank();
        int in = f.in();
        Tensor vt = backend.allocate(k, in);
        backend.upload(f.vt(), 0, vt);
        Tensor g = backend.allocate(k, in);
        backend.gemm(false, false, k, in, in, 1f, vt, in, ActivationAwareFactors.upload(backend, covariance, in * in),
                in, 0f, g, in);
        float[] gh = backend.download(g);
        double[] e = new double[k];
        for (int i = 0; i < k; i++) {
            double s = 0;
            for (int j = 0; j < in; j++) {
                s += (double) gh[i * in + j] * f.vt()[i * in + j];
            }
            e[i] = Math.max(0, s);
        }
        return e;
    }

    /** The ratio rank / min(in, out) of a uniform allocation (the same in every module, to rounding). */
    private static double uniformRatio(SearchSpace space, Map<String, Integer> ranks) {
        var e = ranks.entrySet().iterator().next();
        int t = space.targetOf(e.getKey());
        return e.getValue() / (double) Math.min(space.inFeatures(t), space.outFeatures(t));
    }
}
