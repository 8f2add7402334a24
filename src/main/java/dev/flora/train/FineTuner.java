package dev.flora.train;

import dev.flora.config.LoopSettings;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.models.ModelInput;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Fine-tunes a model of fixed architecture (dense or factorized, e.g. an exported subnet) in
 * place, with the pre-training task (label-smoothed cross-entropy) and the {@link TrainingLoop}:
 * its checkpoint and metrics land in {@code runDir}.
 */
public final class FineTuner {
    private FineTuner() {
    }

    /** Validation top-1 (in [0, 1]) after the last epoch, and the loop's figures. */
    public record Result(double valTop1, double seconds, int epochs) {
    }

    public static Result fineTune(VisionTransformer model, ModelInput input, String data, LoopSettings loop,
                                  Path runDir, PrintStream out) {
        return fineTune(model, input, data, loop, runDir, false, out);
    }

    /** As above; with {@code resume}, continues from the checkpoint an interrupted fine-tune left in {@code runDir}. */
    public static Result fineTune(VisionTransformer model, ModelInput input, String data, LoopSettings loop,
                                  Path runDir, boolean resume, PrintStream out) {
        ImageSource trainFile = Datasets.load(data).trainFile();
        ImageSource train = Datasets.first(Datasets.trainPart(trainFile), loop.trainLimit());
        ImageSource val = Datasets.valPart(trainFile);
        Evaluator.checkCompatible(model.config(), input, train);
        Datasets.checkReadable(train, val);
        TrainingLoop.prepareRunDir(runDir, resume);
        PretrainTask task = new PretrainTask(model, input, val, loop.labelSmoothing(), loop.batchSize(),
                loop.evalBatchSize());
        TrainingLoop.Outcome o = new TrainingLoop(loop, runDir, out).run(task, train, resume, Integer.MAX_VALUE,
                input::metadata);
        double top1 = o.validation().getOrDefault("val_top1", Double.NaN) / 100;
        return new Result(top1, o.seconds(), o.epochsDone());
    }
}
