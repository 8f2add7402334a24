package dev.flora.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flora.api.Prediction;
import dev.flora.api.VitPredictor;
import dev.flora.engine.backend.Backend;
import dev.flora.image.ImageFiles;
import dev.flora.models.ModelSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code flora predict}: the top classes of image files, through the model's own preprocessing. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Classify PNG and JPEG files: each file's most probable classes and their softmax "
                + "probabilities. Directories are searched recursively, in path order.")
public final class PredictCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = ModelSource.DEFAULT, paramLabel = "PATH|NAME",
            description = "A safetensors file or a bundled model name (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--topk", defaultValue = "5", paramLabel = "K",
            description = "Classes to print per image (default: ${DEFAULT-VALUE}).")
    int topk;

    @Option(names = "--json", description = "One JSON line per image: {\"file\": ..., \"topk\": [{\"index\": ..., "
            + "\"label\": ..., \"prob\": ...}, ...]}.")
    boolean json;

    @Option(names = "--num-heads", description = "Attention heads, for checkpoints whose metadata lacks num_heads.")
    Integer numHeads;

    @Mixin
    PreprocessingOptions preprocessing;

    @Mixin
    DeviceOption device;

    @Mixin
    PrecisionOption precision;

    @Parameters(arity = "1..*", paramLabel = "FILE|DIR", description = "Image files, or directories of them.")
    List<Path> inputs;

    @Override
    public Integer call() {
        if (topk <= 0) {
            throw new IllegalArgumentException("--topk must be positive, got " + topk);
        }
        List<Path> files = imageFiles(inputs);
        var flags = preprocessing.overrides();
        // stdout carries only the predictions; the device line and notes go to stderr
        try (Backend backend = device.create(System.err, precision.value())) {
            ModelSource.LoadedModel loaded = ModelSource.open(model, backend,
                    numHeads == null ? OptionalInt.empty() : OptionalInt.of(numHeads), System.err::println);
            int classes = loaded.model().config().numClasses();
            if (topk > classes) {
                throw new IllegalArgumentException("--topk " + topk + ": " + model + " has " + classes + " classes");
            }
            try (VitPredictor p = VitPredictor.of(loaded, flags, 1, 1, System.err::println)) {
                ObjectMapper mapper = new ObjectMapper();
                for (Path f : files) {
                    List<Prediction> top = p.topK(f, topk);
                    System.out.println(json ? jsonLine(mapper, f, top) : textLine(f, top));
                }
            }
        }
        return 0;
    }

    /** The files named, and the image files under the directories named, each directory's in path order. */
    static List<Path> imageFiles(List<Path> inputs) {
        List<Path> files = new ArrayList<>();
        for (Path in : inputs) {
            if (Files.isDirectory(in)) {
                List<Path> found;
                try (Stream<Path> walk = Files.walk(in)) {
                    found = walk.filter(Files::isRegularFile).filter(ImageFiles::hasImageExtension).sorted().toList();
                } catch (IOException | UncheckedIOException e) {
                    throw new IllegalArgumentException(in + ": cannot list the directory (" + e.getMessage() + ")");
                }
                if (found.isEmpty()) {
                    throw new IllegalArgumentException(in + ": no .png, .jpg or .jpeg files in this directory");
                }
                files.addAll(found);
            } else if (Files.isRegularFile(in)) {
                files.add(in);
            } else {
                throw new IllegalArgumentException(in + ": no such file or directory");
            }
        }
        return files;
    }

    static String textLine(Path file, List<Prediction> top) {
        StringBuilder sb = new StringBuilder(file.toString());
        for (Prediction t : top) {
            sb.append(String.format(Locale.ROOT, "  %s (%.1f%%)", t.label(), 100 * t.prob()));
        }
        return sb.toString();
    }

    static String jsonLine(ObjectMapper mapper, Path file, List<Prediction> top) {
        ObjectNode o = mapper.createObjectNode();
        o.put("file", file.toString());
        ArrayNode list = o.putArray("topk");
        for (Prediction t : top) {
            list.addObject().put("index", t.index()).put("label", t.label()).put("prob", t.prob());
        }
        return o.toString();
    }
}
