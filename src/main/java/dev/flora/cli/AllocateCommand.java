package dev.flora.cli;

import dev.flora.allocation.AllocationMethod;
import dev.flora.allocation.AllocationRun;
import dev.flora.allocation.AllocationSettings;
import dev.flora.data.Datasets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flora allocate}: a rank allocation at a FLOPs target, without a supernet, exported as a model. */
@Command(name = "allocate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Choose every target module's rank of a dense model to meet a FLOPs target without a supernet "
                + "(uniform, svd-energy, activation-aware or greedy), export the subnet as flora export does, and "
                + "write allocation.json and summary.md beside it.")
public final class AllocateCommand implements Callable<Integer> {
    @Option(names = "--method", required = true, paramLabel = "M", description = "uniform (one ratio everywhere), "
            + "svd-energy (smallest rank holding a fraction tau of the weight's squared singular values), "
            + "activation-aware (the same on W·L, L the factor of the input covariance, as SVD-LLM), or greedy "
            + "(smallest rank whose relative output error is under epsilon, as FLAR-SVD); tau, epsilon or the ratio "
            + "is bisected to meet the target.")
    String method;

    @Option(names = "--model", required = true, paramLabel = "PATH|NAME", description = "The dense model: a "
            + "safetensors file or a bundled name.")
    String model;

    @Option(names = "--target", required = true, paramLabel = "F", description = "FLOPs as a fraction of the dense "
            + "model's, in (0, 1].")
    String target;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory for the model and report.")
    Path out;

    @Option(names = "--data", defaultValue = AllocationSettings.DEFAULT_DATA, paramLabel = "DIR|NAME",
            description = "Calibration and fine-tuning images (the training split): " + Datasets.SPEC_HELP
                    + " (default: ${DEFAULT-VALUE}).")
    String data;

    @Option(names = "--calibration-images", defaultValue = "" + AllocationSettings.DEFAULT_CALIBRATION_IMAGES,
            paramLabel = "N", description = "Training images the activation-aware and greedy methods measure layer "
                    + "inputs on (default: ${DEFAULT-VALUE}).")
    int calibrationImages;

    @Option(names = "--finetune-epochs", defaultValue = "" + AllocationSettings.DEFAULT_FINETUNE_EPOCHS,
            paramLabel = "E", description = "Epochs of fine-tuning the fixed subnet on the training split, 0 for "
                    + "none (default: ${DEFAULT-VALUE}).")
    int finetuneEpochs;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() {
        AllocationSettings settings = new AllocationSettings(AllocationMethod.parse(method), model, parseTarget(target),
                data, calibrationImages, finetuneEpochs);
        new AllocationRun(settings, out, device.create(System.out), System.out).run();
        return 0;
    }

    private static double parseTarget(String s) {
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--target '" + s + "': expected a fraction of the dense model's FLOPs "
                    + "in (0, 1], such as 0.35");
        }
    }
}
