package dev.flora.engine.io;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.nn.LinearSpec;
import dev.flora.engine.nn.Param;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.nn.ViTConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads and saves ViTs as safetensors with timm's tensor names, distilled DeiT included
 * ({@code dist_token}, {@code head_dist}). Hyper-parameters come from {@code __metadata__} when
 * present, else from the tensor shapes (num_heads from a flag or a standard DeiT width), so a
 * checkpoint as timm publishes it, with metadata {@code {"format": "pt"}} only, loads as is.
 * timm variants flora-j lacks fail naming the tensor that marks them
 * ({@link UnsupportedVariants}). Factorized modules are recognised by their tensor names (see
 * {@link #linearSpecs}). Loading is strict: every parameter must be present with its exact shape, and every
 * tensor in the file must belong to the model (optimizer state under {@code optimizer.} aside).
 */
public final class ModelIO {
    /** Tensors under this prefix hold training state, not model weights. */
    public static final String OPTIMIZER_PREFIX = "optimizer.";

    private static final Pattern LOW_RANK = Pattern.compile("^(.*)\\.VT\\.weight$");
    private static final Pattern CHOICE = Pattern.compile("^(.*)\\.choices\\.(\\d+)\\.VT\\.weight$");

    private ModelIO() {
    }

    /** Loads {@code path} into a new model on {@code backend}. */
    public static VisionTransformer load(Path path, Backend backend, OptionalInt numHeads) {
        SafeTensors file = SafeTensors.open(path);
        ViTConfig config = inferConfig(file, numHeads);
        VisionTransformer model = new VisionTransformer(backend, config, linearSpecs(file));
        loadWeights(model, file);
        return model;
    }

    /**
     * The factorized modules of the file by path: {@code path.VT.weight} makes a weight-inheriting
     * low-rank module at the stored rank, {@code path.choices.i.VT.weight} a choice block of
     * independent ranks; every other module is dense.
     */
    public static Map<String, LinearSpec> linearSpecs(SafeTensors file) {
        Map<String, TreeMap<Integer, Integer>> choices = new TreeMap<>();
        Map<String, LinearSpec> out = new TreeMap<>();
        for (SafeTensors.Entry e : file.entries().values()) {
            if (e.name().startsWith(OPTIMIZER_PREFIX)) {
                continue;
            }
            Matcher c = CHOICE.matcher(e.name());
            Matcher m = LOW_RANK.matcher(e.name());
            if (c.matches()) {
                long index = BlockIndices.parse(c.group(2));
                if (index >= file.entries().size()) {
                    throw new FormatException(file.path() + ": tensor " + e.name() + " has choice index " + c.group(2)
                            + ", expected choices numbered 0.. below the file's " + file.entries().size() + " tensors");
                }
                choices.computeIfAbsent(c.group(1), k -> new TreeMap<>()).put((int) index, factorRank(file, e));
            } else if (m.matches()) {
                out.put(m.group(1), new LinearSpec.LowRank(factorRank(file, e)));
            }
        }
        choices.forEach((path, ranks) -> {
            if (ranks.lastKey() != ranks.size() - 1) {
                throw new FormatException(file.path() + ": choices of " + path + " are not numbered 0.." + (ranks.size()
                        - 1));
            }
            out.put(path, new LinearSpec.IndependentRanks(ranks.values().stream().mapToInt(Integer::intValue)
                    .toArray()));
        });
        return out;
    }

    private static int factorRank(SafeTensors file, SafeTensors.Entry e) {
        int[] s = e.shape();
        if (s.length != 2 || s[0] < 1) {
            throw new FormatException(file.path() + ": tensor " + e.name() + " has shape " + Arrays.toString(s)
                    + ", expected [rank, in_features] with rank at least 1");
        }
        return s[0];
    }

    /** Copies every parameter of {@code model} from {@code file}, checking names and shapes. */
    public static void loadWeights(VisionTransformer model, SafeTensors file) {
        Backend backend = model.backend();
        for (Param p : model.arena().params()) {
            if (!file.contains(p.name())) {
                throw new FormatException(file.path() + ": missing tensor " + p.name() + " (expected shape "
                        + Arrays.toString(p.shape()) + ")");
            }
            SafeTensors.Entry e = file.entry(p.name());
            if (!Arrays.equals(e.shape(), p.shape())) {
                throw new FormatException(file.path() + ": tensor " + p.name() + " has shape "
                        + Arrays.toString(e.shape()) + ", expected " + Arrays.toString(p.shape()));
            }
            backend.upload(finite(file, p.name(), file.read(p.name())), 0, p.value());
        }
        for (String name : file.entries().keySet()) {
            if (!name.startsWith(OPTIMIZER_PREFIX) && !model.arena().contains(name)) {
                throw new FormatException(file.path() + ": unexpected tensor " + name + " (not a parameter of "
                        + model.config() + ")");
            }
        }
    }

    /** {@code values} of tensor {@code name}, refused if one is NaN or infinite: such a model only predicts NaN. */
    private static float[] finite(SafeTensors file, String name, float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new FormatException(file.path() + ": tensor " + name + " holds a non-finite value (" + values[i]
                        + " at index " + i + "), expected finite weights");
            }
        }
        return values;
    }

    /** Model weights by name, in arena order, downloaded to host arrays. */
    public static Map<String, TensorData> weights(VisionTransformer model) {
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (Param p : model.arena().params()) {
            out.put(p.name(), new TensorData(p.shape(), model.backend().download(p.value())));
        }
        return out;
    }

    /** Saves the model's weights and hyper-parameters (plus {@code extra} metadata) atomically. */
    public static void save(VisionTransformer model, Path path, Map<String, String> extra) {
        save(model, path, extra, WeightDtype.F32);
    }

    /** As {@link #save(VisionTransformer, Path, Map)}, the weights stored as {@code dtype}. */
    public static void save(VisionTransformer model, Path path, Map<String, String> extra, WeightDtype dtype) {
        Map<String, String> meta = new LinkedHashMap<>(configMetadata(model.config()));
        meta.putAll(extra);
        SafeTensors.write(path, weights(model), meta, dtype);
    }

    /** The {@code __metadata__} keys that describe a config. */
    public static Map<String, String> configMetadata(ViTConfig c) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", "flora-j");
        m.put("arch", "vit");
        m.put("img_size", Integer.toString(c.imgSize()));
        m.put("patch_size", Integer.toString(c.patchSize()));
        m.put("in_chans", Integer.toString(c.inChans()));
        m.put("embed_dim", Integer.toString(c.embedDim()));
        m.put("depth", Integer.toString(c.depth()));
        m.put("num_heads", Integer.toString(c.numHeads()));
        m.put("mlp_ratio", Double.toString(c.mlpRatio()));
        m.put("num_classes", Integer.toString(c.numClasses()));
        m.put("distilled", Boolean.toString(c.distilled()));
        m.put("input_mean", join(c.inputMean()));
        m.put("input_std", join(c.inputStd()));
        return m;
    }

    private static String join(double[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ",").append(v[i]);
        }
        return sb.toString();
    }

    /**
     * Hyper-parameters from metadata where given, else from the tensor shapes; num_heads from
     * metadata, else {@code numHeadsFlag}, else the standard DeiT widths (192, 384, 768 wide:
     * 3, 6, 12 heads). A flag that contradicts the metadata is an error, not an override.
     */
    public static ViTConfig inferConfig(SafeTensors file, OptionalInt numHeadsFlag) {
        Path path = file.path();
        Map<String, String> meta = file.metadata();
        int[] proj = shapeOf(file, "patch_embed.proj.weight", 4, "[embed_dim, in_chans, patch, patch]");
        UnsupportedVariants.check(file);
        int[] pos = shapeOf(file, "pos_embed", 3, "[1, tokens, embed_dim]");
        int[] head = shapeOf(file, "head.weight", 2, "[num_classes, embed_dim]");
        int embed = proj[0];
        int inChans = proj[1];
        int patch = proj[2];
        boolean distilled = file.contains("dist_token");
        if (distilled && !file.contains("head_dist.weight")) {
            throw new FormatException(path + ": tensor dist_token without head_dist.weight; a distilled DeiT needs "
                    + "both");
        }
        int prefix = distilled ? 2 : 1;
        int grid = gridOf(path, pos[1], prefix);
        int depth = BlockIndices.depth(file);
        if (depth == 0) {
            throw new FormatException(path + ": not a ViT checkpoint: no tensors under blocks.0.");
        }
        int hidden = outFeatures(file, "blocks.0.mlp.fc1");
        double mlpRatio = hidden / (double) embed;

        int imgSize = intMeta(meta, path, "img_size", grid * patch);
        int patchSize = intMeta(meta, path, "patch_size", patch);
        int chans = intMeta(meta, path, "in_chans", inChans);
        int dim = intMeta(meta, path, "embed_dim", embed);
        int dep = intMeta(meta, path, "depth", depth);
        int classes = intMeta(meta, path, "num_classes", head[0]);
        double ratio = meta.containsKey("mlp_ratio") ? doubleMeta(meta, path, "mlp_ratio") : mlpRatio;
        if (Math.round(embed * ratio) != hidden) {
            throw new FormatException(path + ": __metadata__ mlp_ratio is \"" + meta.get("mlp_ratio") + "\", but "
                    + "blocks.0.mlp.fc1 has " + hidden + " features for embed_dim " + embed + " (ratio " + mlpRatio + ")");
        }
        boolean distilledMeta = meta.containsKey("distilled") ? booleanMeta(meta, path, "distilled") : distilled;
        int heads = numHeads(path, meta, embed, numHeadsFlag);
        double[] mean = meta.containsKey("input_mean") ? doublesMeta(meta, path, "input_mean", chans)
                : defaultMean(chans);
        double[] std = meta.containsKey("input_std") ? doublesMeta(meta, path, "input_std", chans)
                : defaultStd(chans);
        for (int c = 0; c < chans; c++) {
            // pixels are divided by std: a zero, negative or non-finite one makes every input NaN or meaningless
            if (!Double.isFinite(mean[c]) || !(std[c] > 0) || !Double.isFinite(std[c])) {
                String key = Double.isFinite(mean[c]) ? "input_std" : "input_mean";
                throw new FormatException(path + ": __metadata__ " + key + " is \"" + meta.get(key) + "\", expected "
                        + (key.equals("input_std") ? "positive finite" : "finite") + " numbers, one per channel");
            }
        }
        if (imgSize != grid * patch || patchSize != patch || chans != inChans || dim != embed || dep != depth
                || classes != head[0] || distilledMeta != distilled) {
            throw new FormatException(path + ": __metadata__ (img_size " + imgSize + ", patch_size " + patchSize
                    + ", in_chans " + chans + ", embed_dim " + dim + ", depth " + dep + ", num_classes " + classes
                    + ", distilled " + distilledMeta + ") disagrees with the tensor shapes (img_size " + grid * patch
                    + ", patch_size " + patch + ", in_chans " + inChans + ", embed_dim " + embed + ", depth " + depth
                    + ", num_classes " + head[0] + ", distilled " + distilled + ")");
        }
        try {
            return new ViTConfig(imgSize, patchSize, chans, dim, dep, heads, ratio, classes, mean, std, distilled);
        } catch (IllegalArgumentException e) {
            throw new FormatException(path + ": " + e.getMessage());
        }
    }

    /** The side of the patch grid from pos_embed's token count ({@code prefix} tokens before the patches). */
    private static int gridOf(Path path, int tokens, int prefix) {
        int grid = squareRoot(tokens - prefix);
        if (grid > 0) {
            return grid;
        }
        if (squareRoot(tokens) > 0) {
            throw new FormatException(path + ": pos_embed has " + tokens + " tokens, the patches alone: a position "
                    + "embedding that skips the prefix tokens (timm's no_embed_class) is not supported");
        }
        throw new FormatException(path + ": pos_embed has " + tokens + " tokens; expected " + prefix
                + " prefix token(s) + a square number of patches");
    }

    /** The integer square root of n, or 0 when n is not a positive square. */
    private static int squareRoot(int n) {
        int r = (int) Math.round(Math.sqrt(Math.max(0, n)));
        return r * r == n ? r : 0;
    }

    private static int numHeads(Path path, Map<String, String> meta, int embed, OptionalInt flag) {
        if (meta.containsKey("num_heads")) {
            int stored = intMeta(meta, path, "num_heads", 0);
            if (flag.isPresent() && flag.getAsInt() != stored) {
                throw new FormatException(path + ": --num-heads " + flag.getAsInt() + " disagrees with num_heads "
                        + stored + " in __metadata__ (the flag is for files without num_heads)");
            }
            return stored;
        }
        if (flag.isPresent()) {
            return flag.getAsInt();
        }
        return switch (embed) {
            case 192 -> 3;
            case 384 -> 6;
            case 768 -> 12;
            default -> throw new FormatException(path + ": cannot tell num_heads (embed_dim " + embed
                    + " is not a standard DeiT width, no num_heads in __metadata__); pass --num-heads");
        };
    }

    private static int outFeatures(SafeTensors file, String module) {
        if (file.contains(module + ".weight")) {
            return shapeOf(file, module + ".weight", 2, "[out_features, in_features]")[0];
        }
        for (String factor : new String[] {module + ".U.weight", module + ".choices.0.U.weight"}) {
            if (file.contains(factor)) {
                return shapeOf(file, factor, 2, "[out_features, rank]")[0];
            }
        }
        throw new FormatException(file.path() + ": missing tensor " + module + ".weight (or its low-rank factors "
                + module + ".VT.weight and .U.weight)");
    }

    private static int[] shapeOf(SafeTensors file, String name, int rank, String expected) {
        if (!file.contains(name)) {
            throw new FormatException(file.path() + ": not a ViT checkpoint: missing tensor " + name);
        }
        int[] s = file.entry(name).shape();
        if (s.length != rank) {
            throw new FormatException(file.path() + ": tensor " + name + " has shape " + Arrays.toString(s)
                    + ", expected " + expected);
        }
        return s;
    }

    private static int intMeta(Map<String, String> meta, Path path, String key, int fallback) {
        String v = meta.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new FormatException(path + ": __metadata__ " + key + " is \"" + v + "\", expected an integer");
        }
    }

    private static double doubleMeta(Map<String, String> meta, Path path, String key) {
        String v = meta.get(key);
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new FormatException(path + ": __metadata__ " + key + " is \"" + v + "\", expected a number");
        }
    }

    private static boolean booleanMeta(Map<String, String> meta, Path path, String key) {
        String v = meta.get(key).trim();
        if (!v.equals("true") && !v.equals("false")) {
            throw new FormatException(path + ": __metadata__ " + key + " is \"" + meta.get(key)
                    + "\", expected true or false");
        }
        return Boolean.parseBoolean(v);
    }

    private static double[] doublesMeta(Map<String, String> meta, Path path, String key, int count) {
        String v = meta.get(key).replace("[", "").replace("]", "").trim();
        String[] parts = v.split("[,\\s]+");
        if (parts.length != count) {
            throw new FormatException(path + ": __metadata__ " + key + " is \"" + meta.get(key) + "\", expected "
                    + count + " comma-separated numbers");
        }
        double[] out = new double[count];
        for (int i = 0; i < count; i++) {
            try {
                out[i] = Double.parseDouble(parts[i]);
            } catch (NumberFormatException e) {
                throw new FormatException(path + ": __metadata__ " + key + " is \"" + meta.get(key)
                        + "\", expected numbers");
            }
        }
        return out;
    }

    private static double[] defaultMean(int chans) {
        return chans == 3 ? new double[] {0.485, 0.456, 0.406} : filled(chans, 0.5);
    }

    private static double[] defaultStd(int chans) {
        return chans == 3 ? new double[] {0.229, 0.224, 0.225} : filled(chans, 0.5);
    }

    private static double[] filled(int n, double v) {
        double[] out = new double[n];
        Arrays.fill(out, v);
        return out;
    }
}
