package dev.flora.config;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.flora.data.Datasets;
import dev.flora.models.ModelSource;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The ablation of paper figures 4 and 5 ({@code flora ablation}): four supernets at one training
 * budget (SPOS, SPOS with filtering, LRAT, LRAT with filtering), each searched at every FLOPs
 * target (the window [target − window, target] of the dense FLOPs), plus the uniform-rank curve
 * and, at every target, the rank allocations that need no supernet ({@code flora allocate}'s
 * methods, from the dense model, without fine-tuning).
 * {@code supernets} picks which of the four are trained (LRAT always: the uniform curve and every
 * paired difference are taken against it), and {@code lorita_model} adds the same allocations of
 * a second backbone, a LoRITa-trained one ({@code flora pretrain --lorita N}), as rows
 * {@code lorita-METHOD}.
 * The sections take the keys of {@code flora filter}, {@code flora supernet} and
 * {@code flora search}; {@code model} and {@code data} apply to all of them.
 */
public record AblationConfig(
        @JsonPropertyDescription("Dense backbone: a model file or a bundled name.") String model,
        @JsonPropertyDescription("Data: " + Datasets.SPEC_HELP + ".") String data,
        @JsonPropertyDescription("FLOPs targets, fractions of dense.") List<Double> targets,
        @JsonPropertyDescription("Each search keeps FLOPs within [target - window, target].") double window,
        @JsonPropertyDescription("Supernets to train and search, comma-separated, lrat among them: "
                + SUPERNET_NAMES + ". Filtering runs only for a -filter one.") String supernets,
        @JsonPropertyDescription("Rank allocations of the dense model at each target, comma-separated methods of "
                + "flora allocate (uniform, svd-energy, activation-aware, greedy, global-threshold); empty for none.")
        String allocations,
        @JsonPropertyDescription("A second dense backbone of the same architecture, trained with flora pretrain "
                + "--lorita N, whose allocations by the same methods are compared too (rows lorita-METHOD); empty "
                + "for none.") String loritaModel,
        @JsonPropertyDescription("Training images whose layer inputs the calibrated allocations measure.")
        int calibrationImages,
        @JsonPropertyDescription("Epochs of fine-tuning each allocated subnet (the same for every method; rows "
                + "METHOD+ft beside the untuned ones), 0 for none.") int allocationFinetuneEpochs,
        @JsonPropertyDescription("Repeats of supernet training and search, seed i adding i to their seeds; more than "
                + "one adds ablation-seeds.csv (mean and standard deviation over the seeds).") int seeds,
        FilterConfig filter,
        SupernetConfig supernet,
        SearchConfig search) {

    public static final String DEFAULT_ALLOCATIONS = "svd-energy,activation-aware,greedy,global-threshold";
    /** The four supernets of the ablation, in the order of its rows: the default of {@code supernets}. */
    public static final String SUPERNET_NAMES = "spos,spos-filter,lrat,lrat-filter";

    public AblationConfig {
        Checks.require(window > 0, "window must be positive, got " + window);
        Checks.require(targets != null && !targets.isEmpty(),
                "targets: give at least one FLOPs target (fractions of dense)");
        for (double t : targets) {
            Checks.require(t > window && t <= 1, "target " + t + " must be in (window, 1] with window " + window);
        }
        Checks.require(allocationFinetuneEpochs >= 0, "allocation_finetune_epochs must be >= 0, got "
                + allocationFinetuneEpochs);
        Checks.require(seeds >= 1, "seeds must be at least 1, got " + seeds);
        Checks.require(calibrationImages >= 1, "calibration_images must be at least 1, got " + calibrationImages);
        allocations = allocations == null ? "" : allocations;
        supernets = supernets == null ? SUPERNET_NAMES : supernets;
        Checks.require(supernetList(supernets).contains("lrat"), "supernets must include lrat (the uniform curve "
                + "and the paired differences are taken against it), got '" + supernets + "'");
        for (String s : supernetList(supernets)) {
            Checks.require(supernetList(SUPERNET_NAMES).contains(s), "supernets: '" + s + "' is not one of "
                    + SUPERNET_NAMES);
        }
        loritaModel = loritaModel == null ? "" : loritaModel.trim();
        filter = filter == null ? null : filter.on(model, data);
        supernet = supernet == null ? null : supernet.on(model, data);
        if (supernet != null) {
            supernet.requireFp32In("the ablation");
        }
        search = search == null ? null : search.over(search.supernet(), data);
    }

    public static AblationConfig defaults() {
        return new AblationConfig(ModelSource.DEFAULT, Datasets.DEBIAN_FMNIST, List.of(0.4, 0.5, 0.6), 0.05,
                SUPERNET_NAMES, DEFAULT_ALLOCATIONS, "", SupernetInit.DEFAULT_CALIBRATION_IMAGES, 0, 1,
                FilterConfig.defaults(), SupernetConfig.defaults(), SearchConfig.defaults());
    }

    /** {@code flora ablation --quick}: the defaults under {@code ablation-quick.yaml}, minutes on two cores. */
    public static AblationConfig quick() {
        return Configs.merge(AblationConfig.class, defaults(), "ablation-quick.yaml",
                Configs.readLayer(AblationConfig.class.getResource("ablation-quick.yaml")));
    }

    /** The names in {@code supernets}, in the order given. */
    public List<String> supernetList() {
        return supernetList(supernets);
    }

    private static List<String> supernetList(String spec) {
        return Arrays.stream(spec.split(",")).map(String::trim).filter(n -> !n.isEmpty()).toList();
    }

    /**
     * This saved run's config as {@code next} may continue it: with next's number of seeds, and with
     * next's LoRITa backbone where this run had none (its rows need no seed and no supernet, so a
     * finished run can gain them); any other difference makes it another run.
     */
    public AblationConfig continuedBy(AblationConfig next) {
        return new AblationConfig(model, data, targets, window, supernets, allocations,
                loritaModel.isEmpty() ? next.loritaModel : loritaModel, calibrationImages, allocationFinetuneEpochs,
                next.seeds, filter, supernet, search);
    }

    /**
     * This config for repeat {@code i}: the supernets' and the searches' seeds moved by i, the rest
     * (filtering included, which runs once) as it is. Repeat 0 is this config.
     */
    public AblationConfig forSeed(int i) {
        if (i == 0) {
            return this;
        }
        return Configs.merge(AblationConfig.class, this, "seed " + i, Configs.layer(Map.of(
                "supernet", Map.of("loop", Map.of("seed", supernet.loop().seed() + i)),
                "search", Map.of("evolution", Map.of("seed", search.evolution().seed() + i)))));
    }

    /** The same stages expressed as a compress config, with filtering and the SPOS comparison. */
    public CompressConfig asCompress() {
        return new CompressConfig(model, data, true, true, "", calibrationImages, filter, supernet, search);
    }
}
