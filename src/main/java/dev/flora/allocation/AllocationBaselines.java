package dev.flora.allocation;

import dev.flora.calibration.InputCovariance;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.models.ModelInput;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The supernet-free allocations that the pipelines run beside FLORA ({@code flora ablation} at
 * every target, {@code flora compress} at the searched subnet's FLOPs): the methods a setting
 * names, and the one calibration they share.
 */
public final class AllocationBaselines {
    private AllocationBaselines() {
    }

    /** The methods of a comma-separated list ("" for none); {@code key} names the setting in the error. */
    public static List<AllocationMethod> parse(String spec, String key) {
        return Arrays.stream(spec.split(",")).map(String::trim).filter(m -> !m.isEmpty())
                .map(m -> {
                    try {
                        return AllocationMethod.parse(m);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(key + ": '" + m + "' is not a method of flora allocate "
                                + "(" + AllocationMethod.labels() + ")", e);
                    }
                }).toList();
    }

    /**
     * The input covariances of {@code modules} that the calibrated methods among {@code methods}
     * read, measured on the first {@code images} training images of {@code data}; empty when
     * none of them is calibrated.
     */
    public static Map<String, double[]> calibrate(List<AllocationMethod> methods, VisionTransformer dense,
                                                  ModelInput input, String data, int images, List<String> modules,
                                                  PrintStream out) {
        if (methods.stream().noneMatch(AllocationMethod::calibrated)) {
            return Map.of();
        }
        ImageSource calibration = Datasets.first(Datasets.trainPart(Datasets.load(data).trainFile()), images);
        out.printf(Locale.ROOT, "allocations: calibrating on %d training images%n", calibration.count());
        return InputCovariance.collect(dense, input, calibration, modules);
    }
}
