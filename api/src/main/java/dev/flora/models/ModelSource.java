package dev.flora.models;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.io.SafeTensors;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.image.Preprocessing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Consumer;

/**
 * Resolves a {@code --model} argument: a safetensors path, the name of a model bundled in the
 * jar ({@code vit-fmnist}, ...), or the name of a preset ({@code deit-tiny}, ...): a randomly
 * initialised model of a named architecture, the same weights in every run (a fixed seed).
 * Bundled models are files in a per-user cache ({@link BundledFiles}), since the safetensors
 * reader works on files.
 */
public final class ModelSource {
    /** Names of the models that ship inside flora-j. */
    public static final List<String> BUNDLED = List.of("vit-fmnist", "vit-fmnist-flora", "vit-fmnist-uniform");
    public static final String DEFAULT = "vit-fmnist";
    /** The presets by name: the one place they are registered (timm's DeiT, randomly initialised). */
    private static final Map<String, ViTConfig> PRESETS = presets();
    /** Names of the presets, in registration order. */
    public static final List<String> PRESET_NAMES = List.copyOf(PRESETS.keySet());
    /** Presets are initialised from this seed, so that runs are reproducible. */
    public static final long PRESET_SEED = 0;
    /** timm's DeiT data config, which a preset's metadata carries beside its hyper-parameters. */
    private static final Map<String, String> PRESET_DATA_CONFIG = Map.of(ModelPreprocessing.CROP_PCT,
            Double.toString(Preprocessing.DEFAULT_CROP_PCT), ModelPreprocessing.INTERPOLATION,
            Preprocessing.DEFAULT_INTERPOLATION.key());
    /** Names of the search spaces that ship inside flora-j (written by flora filter). */
    public static final List<String> BUNDLED_SPACES = List.of("vit-fmnist-filtered");

    private static final String RESOURCE_DIR = "/dev/flora/models/";
    private static final String SPACE_DIR = "/dev/flora/spaces/";

    private ModelSource() {
    }

    private static Map<String, ViTConfig> presets() {
        Map<String, ViTConfig> m = new LinkedHashMap<>();
        m.put("deit-tiny", ViTConfig.deitTiny());
        m.put("deit-small", ViTConfig.deitSmall());
        m.put("deit-base", ViTConfig.deitBase());
        return Collections.unmodifiableMap(m);
    }

    public static VisionTransformer load(String spec, Backend backend, OptionalInt numHeads) {
        return open(spec, backend, numHeads).model();
    }

    /** A model with the {@code __metadata__} of its file (class names, preprocessing) and its display name. */
    public record LoadedModel(VisionTransformer model, Map<String, String> metadata, String name) {
        public LoadedModel {
            metadata = Map.copyOf(metadata);
        }
    }

    /**
     * Loads a model spec and keeps its file's metadata; a preset is built in memory, its metadata
     * its hyper-parameters ({@link ModelIO#configMetadata}) and timm's DeiT data config. On an
     * inference-only backend (bf16) the weights are then held once, in the backend's format
     * ({@link VisionTransformer#storeWeightsOnce}).
     */
    public static LoadedModel open(String spec, Backend backend, OptionalInt numHeads) {
        return open(spec, backend, numHeads, note -> { });
    }

    /** {@link #open}, telling {@code notes} when the head count came from the width, not the file or a flag. */
    public static LoadedModel open(String spec, Backend backend, OptionalInt numHeads, Consumer<String> notes) {
        LoadedModel m = openQuietly(spec, backend, numHeads);
        m.model().storeWeightsOnce();
        if (numHeads.isEmpty() && !m.metadata().containsKey("num_heads")) {
            ViTConfig c = m.model().config();
            notes.accept("note: " + spec + " does not record num_heads; using " + c.numHeads() + ", the DeiT preset's "
                    + "for width " + c.embedDim() + "; set it with --num-heads");
        }
        return m;
    }

    private static LoadedModel openQuietly(String spec, Backend backend, OptionalInt numHeads) {
        if (isPreset(spec)) {
            return preset(spec, backend, numHeads);
        }
        Path file = resolve(spec);
        try {
            SafeTensors st = SafeTensors.open(file);
            VisionTransformer model = ModelIO.load(file, backend, numHeads);
            return new LoadedModel(model, st.metadata(), spec);
        } catch (FormatException e) {
            if (file.equals(Path.of(spec))) {
                throw e;
            }
            // the user named the bundled model, not the cached copy the reader opened
            throw new FormatException(e.getMessage().replace(file.toString(), "bundled model " + spec), e);
        }
    }

    /**
     * The file behind a model spec. A bundled model is its cached copy; a preset is written to
     * the same cache (replaced each time, so it is always today's), the model {@link #open} gives,
     * metadata included.
     */
    public static Path resolve(String spec) {
        Path p = Path.of(spec);
        if (Files.isRegularFile(p)) {
            return p;
        }
        if (BUNDLED.contains(spec)) {
            return extract(RESOURCE_DIR, spec, ".safetensors");
        }
        if (isPreset(spec)) {
            return writePreset(spec);
        }
        throw new FormatException("model " + spec + ": no such file, and not a bundled model or preset (bundled: "
                + String.join(", ", BUNDLED) + "; presets: " + String.join(", ", PRESET_NAMES) + ")");
    }

    /** A preset's name that no file of that name shadows (a path wins, as for bundled models). */
    private static boolean isPreset(String spec) {
        return PRESETS.containsKey(spec) && !Files.isRegularFile(Path.of(spec));
    }

    private static LoadedModel preset(String name, Backend backend, OptionalInt numHeads) {
        ViTConfig config = PRESETS.get(name);
        if (numHeads.isPresent() && numHeads.getAsInt() != config.numHeads()) {
            throw new FormatException("model " + name + ": --num-heads " + numHeads.getAsInt()
                    + " disagrees with the preset's " + config.numHeads() + " heads (the flag is for files without "
                    + "num_heads)");
        }
        VisionTransformer model = new VisionTransformer(backend, config);
        ViTInitializer.initialize(model, PRESET_SEED);
        Map<String, String> metadata = new LinkedHashMap<>(ModelIO.configMetadata(config));
        metadata.putAll(PRESET_DATA_CONFIG);
        return new LoadedModel(model, metadata, name);
    }

    private static Path writePreset(String name) {
        try (CpuBackend cpu = new CpuBackend()) {
            LoadedModel m = preset(name, cpu, OptionalInt.empty());
            return BundledFiles.inCache("presets", name + ".safetensors",
                    file -> ModelIO.save(m.model(), file, PRESET_DATA_CONFIG));
        }
    }

    /** The file behind a {@code --search-space} argument: a JSON path or a bundled space's name. */
    public static Path resolveSearchSpace(String spec) {
        Path p = Path.of(spec);
        if (Files.isRegularFile(p)) {
            return p;
        }
        if (BUNDLED_SPACES.contains(spec)) {
            return extract(SPACE_DIR, spec, ".json");
        }
        throw new FormatException("search space " + spec + ": no such file, and not a bundled space (bundled: "
                + String.join(", ", BUNDLED_SPACES) + ")");
    }

    private static Path extract(String dir, String name, String suffix) {
        return BundledFiles.extract(dir + name + suffix, name, suffix);
    }
}
