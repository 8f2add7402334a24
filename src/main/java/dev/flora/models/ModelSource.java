package dev.flora.models;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.nn.VisionTransformer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
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

    private static final String RESOURCE_DIR = "/dev/flora/models/";

    private ModelSource() {
    }

    public static VisionTransformer load(String spec, Backend backend, OptionalInt numHeads) {
        return ModelIO.load(resolve(spec), backend, numHeads);
    }

    /** The file behind a model spec. */
    public static Path resolve(String spec) {
        Path p = Path.of(spec);
        if (Files.isRegularFile(p)) {
            return p;
        }
        if (BUNDLED.contains(spec)) {
            return extract(spec);
        }
        throw new FormatException("model " + spec + ": no such file, and not a bundled model (bundled: "
                + String.join(", ", BUNDLED) + ")");
    }

    private static Path extract(String name) {
        String resource = RESOURCE_DIR + name + ".safetensors";
        try (InputStream in = ModelSource.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new FormatException("bundled model " + name + " is missing from this build (" + resource + ")");
            }
            Path tmp = Files.createTempFile("flora-" + name + "-", ".safetensors");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            return tmp;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract bundled model " + name, e);
        }
    }
}
