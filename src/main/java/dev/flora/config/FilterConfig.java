package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.flora.data.Datasets;
import dev.flora.engine.backend.Precision;
import dev.flora.models.ModelSource;

/**
 * Settings of low-rank aware candidate filtering ({@code flora filter}, paper section 4.2). For
 * each block, a local supernet (only that block factorized) trains with LRAT on
 * {@code proxy_fraction} of the training split; every tuple of the block is scored on
 * {@code score_fraction} of the validation split by M = λ·P − F (P: top-1 in points, F: the
 * block's FLOPs in percent of its dense FLOPs), and the {@code top_k} best plus the dense tuple
 * are kept.
 */
public record FilterConfig(
        @JsonPropertyDescription("Dense backbone: a model file or a bundled name.") String model,
        @JsonPropertyDescription("Data: " + Datasets.SPEC_HELP + ".") String data,
        @JsonPropertyDescription("Part of the training split the local supernets train on.") double proxyFraction,
        @JsonPropertyDescription("Part of the validation split tuples are scored on.") double scoreFraction,
        @JsonPropertyDescription("Weight of accuracy against FLOPs in M = lambda * P - F.") double lambda,
        @JsonPropertyDescription("Tuples kept per block, plus the dense one.") int topK,
        SpaceSettings space,
        DistillSettings distill,
        LoopSettings loop) {

    public FilterConfig {
        Checks.require(proxyFraction > 0 && proxyFraction <= 1, "proxy_fraction must be in (0, 1], got "
                + proxyFraction);
        Checks.require(scoreFraction > 0 && scoreFraction <= 1, "score_fraction must be in (0, 1], got "
                + scoreFraction);
        Checks.require(lambda >= 0, "lambda must be >= 0, got " + lambda);
        Checks.require(topK > 0, "top_k must be positive, got " + topK);
        Checks.require(loop == null || loop.trainLimit() == 0,
                "loop.train_limit does not apply to filter; use proxy_fraction");
    }

    public static FilterConfig defaults() {
        return new FilterConfig(ModelSource.DEFAULT, Datasets.DEBIAN_FMNIST, 0.35, 0.5, 10, 25,
                SpaceSettings.defaults(), DistillSettings.defaults(), LoopSettings.localSupernets());
    }

    /** This config on another backbone and data (the pipeline's top-level ones). */
    public FilterConfig on(String model, String data) {
        return new FilterConfig(model, data, proxyFraction, scoreFraction, lambda, topK, space, distill, loop);
    }

    /** The local supernets' training settings, in the form supernet training takes them. */
    public SupernetConfig localSupernet() {
        return new SupernetConfig(model, data, Method.LRAT, SupernetInit.SVD, SupernetInit.DEFAULT_CALIBRATION_IMAGES,
                null, Precision.FP32, space, distill, loop);
    }
}
