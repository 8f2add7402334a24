package dev.flora.train;

import dev.flora.config.Configs;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.io.SafeTensors;
import dev.flora.engine.io.TensorData;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.optim.AdamW;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training checkpoint: the model's weights under their timm names (so {@code flora eval}
 * reads it as a model), the AdamW moments as two arena-shaped tensors under
 * {@code optimizer.}, and the progress counters and resolved config in the metadata.
 * Written atomically; a crash mid-write leaves the previous checkpoint as it was.
 */
public final class Checkpoint {
    private static final String M = ModelIO.OPTIMIZER_PREFIX + "m";
    private static final String V = ModelIO.OPTIMIZER_PREFIX + "v";

    private Checkpoint() {
    }

    /**
     * Where a run stands: epochs completed, optimizer steps taken (global), AdamW's step count,
     * and the run's own metadata (its config, ...), saved alongside and returned on read.
     */
    public record State(int epochsDone, long step, int adamStep, Map<String, String> metadata) {
    }

    public static void save(Path path, VisionTransformer model, AdamW optimizer, State state) {
        Map<String, TensorData> tensors = new LinkedHashMap<>(ModelIO.weights(model));
        int n = Math.toIntExact(model.arena().size());
        tensors.put(M, new TensorData(new int[] {n}, model.backend().download(optimizer.firstMoment())));
        tensors.put(V, new TensorData(new int[] {n}, model.backend().download(optimizer.secondMoment())));
        Map<String, String> meta = new LinkedHashMap<>(ModelIO.configMetadata(model.config()));
        meta.putAll(state.metadata());
        meta.put("train.epochs_done", Integer.toString(state.epochsDone()));
        meta.put("train.step", Long.toString(state.step()));
        meta.put("train.adam_step", Integer.toString(state.adamStep()));
        SafeTensors.write(path, tensors, meta);
    }

    /** Reads the state of a checkpoint without loading it. */
    public static State readState(Path path) {
        SafeTensors file = SafeTensors.open(path);
        Map<String, String> meta = file.metadata();
        for (String key : new String[] {"train.epochs_done", "train.step", "train.adam_step"}) {
            if (!meta.containsKey(key)) {
                throw new FormatException(path + ": not a training checkpoint (no " + key + " in __metadata__)");
            }
        }
        try {
            return new State(Integer.parseInt(meta.get("train.epochs_done")), Long.parseLong(meta.get("train.step")),
                    Integer.parseInt(meta.get("train.adam_step")), meta);
        } catch (NumberFormatException e) {
            throw new FormatException(path + ": corrupt training counters in __metadata__ (" + e.getMessage() + ")");
        }
    }

    /** Loads weights and optimizer moments of {@code path} into {@code model} and {@code optimizer}. */
    public static State restore(Path path, VisionTransformer model, AdamW optimizer) {
        State state = readState(path);
        SafeTensors file = SafeTensors.open(path);
        ModelIO.loadWeights(model, file);
        long n = model.arena().size();
        for (String name : new String[] {M, V}) {
            if (file.entry(name).numel() != n) {
                throw new FormatException(path + ": tensor " + name + " has " + file.entry(name).numel()
                        + " values, the model's arena has " + n);
            }
        }
        optimizer.restore(file.read(M), file.read(V), state.adamStep());
        return state;
    }

    /**
     * The config a training run was started with, as saved in its checkpoint's metadata under
     * {@code key}; {@code what} names the kind of run in the error when it is another kind.
     */
    public static <T> T savedConfig(Path runDir, String key, Class<T> type, T defaults, String what) {
        Path cp = runDir.resolve(TrainingLoop.CHECKPOINT);
        if (!Files.exists(cp)) {
            throw new FormatException(runDir + ": no " + TrainingLoop.CHECKPOINT + " to resume from");
        }
        String yaml = readState(cp).metadata().get(key);
        if (yaml == null) {
            throw new FormatException(cp + ": not a " + what + " checkpoint (no " + key + ")");
        }
        return Configs.fromYaml(yaml, type, defaults, cp.toString());
    }
}
