package dev.flora.models;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.io.SafeTensors;
import dev.flora.engine.nn.VisionTransformer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Resolves a {@code --model} argument: a safetensors path, or the name of a model bundled in
 * the jar ({@code vit-fmnist}, ...). Bundled models are copied once per process to a
 * temporary file, since the safetensors reader works on files.
 */
public final class ModelSource {
    /** Names of the models that ship inside flora-j. */
    public static final List<String> BUNDLED = List.of("vit-fmnist", "vit-fmnist-flora", "vit-fmnist-uniform");
    public static final String DEFAULT = "vit-fmnist";
    /** Names of the search spaces that ship inside flora-j (written by flora filter). */
    public static final List<String> BUNDLED_SPACES = List.of("vit-fmnist-filtered");

    private static final String RESOURCE_DIR = "/dev/flora/models/";
    private static final String SPACE_DIR = "/dev/flora/spaces/";

    private ModelSource() {
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

    /** Loads a model spec and keeps its file's metadata. */
    public static LoadedModel open(String spec, Backend backend, OptionalInt numHeads) {
        Path file = resolve(spec);
        SafeTensors st = SafeTensors.open(file);
        VisionTransformer model = ModelIO.load(file, backend, numHeads);
        return new LoadedModel(model, st.metadata(), spec);
    }

    /** The file behind a model spec. */
    public static Path resolve(String spec) {
        Path p = Path.of(spec);
        if (Files.isRegularFile(p)) {
            return p;
        }
        if (BUNDLED.contains(spec)) {
            return extract(RESOURCE_DIR, spec, ".safetensors");
        }
        throw new FormatException("model " + spec + ": no such file, and not a bundled model (bundled: "
                + String.join(", ", BUNDLED) + ")");
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
        String resource = dir + name + suffix;
        try (InputStream in = ModelSource.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new FormatException("bundled " + name + " is missing from this build (" + resource + ")");
            }
            Path tmp = Files.createTempFile("flora-" + name + "-", suffix);
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            return tmp;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract bundled model " + name, e);
        }
    }
}
