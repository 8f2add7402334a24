package dev.flora.space;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.nn.ViTConfig;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * FLORA's rank search space over a ViT: in every block, each target module (default
 * {@code attn.qkv}, {@code mlp.fc1}, {@code mlp.fc2}) takes a rank ratio from {@code ratios}
 * of min(in, out); ratio 1.0 is the full rank. A block's choice is the tuple of its modules'
 * ratios; each block allows a list of tuples (all of them, or the survivors of candidate
 * filtering), and the global space is their cartesian product.
 */
public final class SearchSpace {
    public static final double[] DEFAULT_RATIOS = {0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 1.0};
    public static final List<String> DEFAULT_TARGETS = List.of("attn.qkv", "mlp.fc1", "mlp.fc2");
    public static final List<String> KNOWN_TARGETS = List.of("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2");

    private final ViTConfig config;
    private final List<String> targets;
    private final double[] ratios;
    private final List<List<int[]>> allowed;

    public SearchSpace(ViTConfig config, List<String> targets, double[] ratios, List<List<int[]>> allowed) {
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("the search space needs at least one target module");
        }
        for (String t : targets) {
            if (!KNOWN_TARGETS.contains(t)) {
                throw new IllegalArgumentException("unknown target module '" + t + "' (expected one of "
                        + KNOWN_TARGETS + ")");
            }
        }
        if (ratios.length == 0) {
            throw new IllegalArgumentException("the search space needs at least one rank ratio");
        }
        for (int i = 0; i < ratios.length; i++) {
            if (!(ratios[i] > 0 && ratios[i] <= 1)) {
                throw new IllegalArgumentException("rank ratio " + ratios[i] + " is outside (0, 1]");
            }
            if (i > 0 && ratios[i] <= ratios[i - 1]) {
                throw new IllegalArgumentException("rank ratios must be strictly increasing: " + Arrays.toString(ratios));
            }
        }
        if (allowed.size() != config.depth()) {
            throw new IllegalArgumentException("the search space lists " + allowed.size() + " blocks, the model has "
                    + config.depth());
        }
        List<List<int[]>> copy = new ArrayList<>();
        for (int b = 0; b < allowed.size(); b++) {
            if (allowed.get(b).isEmpty()) {
                throw new IllegalArgumentException("block " + b + " allows no rank tuple");
            }
            List<int[]> tuples = new ArrayList<>();
            for (int[] t : allowed.get(b)) {
                if (t.length != targets.size()) {
                    throw new IllegalArgumentException("block " + b + ": tuple " + Arrays.toString(t) + " has "
                            + t.length + " entries, expected " + targets.size());
                }
                for (int i : t) {
                    if (i < 0 || i >= ratios.length) {
                        throw new IllegalArgumentException("block " + b + ": ratio index " + i + " outside [0, "
                                + ratios.length + ")");
                    }
                }
                tuples.add(t.clone());
            }
            copy.add(Collections.unmodifiableList(tuples));
        }
        this.config = config;
        this.targets = List.copyOf(targets);
        this.ratios = ratios.clone();
        this.allowed = Collections.unmodifiableList(copy);
    }

    /** Every tuple allowed in every block. */
    public static SearchSpace full(ViTConfig config, List<String> targets, double[] ratios) {
        List<int[]> all = allTuples(targets.size(), ratios.length);
        List<List<int[]>> allowed = new ArrayList<>();
        for (int b = 0; b < config.depth(); b++) {
            allowed.add(all);
        }
        return new SearchSpace(config, targets, ratios, allowed);
    }

    /** The default space: qkv, fc1, fc2 (plus proj if asked) at the seven default ratios. */
    public static SearchSpace defaults(ViTConfig config, boolean includeProj) {
        List<String> t = includeProj ? List.of("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2") : DEFAULT_TARGETS;
        return full(config, t, DEFAULT_RATIOS);
    }

    /**
     * The space a stage's settings name for a backbone of {@code config}: the JSON file or bundled
     * space {@code spec} when given, else every tuple of the default targets (and proj when
     * {@code includeProj}) at {@code ratios} (null for the default ratios).
     */
    public static SearchSpace resolve(ViTConfig config, String spec, boolean includeProj, double[] ratios) {
        if (spec != null) {
            return read(dev.flora.models.ModelSource.resolveSearchSpace(spec), config);
        }
        SearchSpace d = defaults(config, includeProj);
        return ratios == null ? d : full(config, d.targets(), ratios);
    }

    /** All tuples of {@code n} indices in [0, choices), lexicographic. */
    public static List<int[]> allTuples(int n, int choices) {
        List<int[]> out = new ArrayList<>();
        int[] t = new int[n];
        while (true) {
            out.add(t.clone());
            int i = n - 1;
            while (i >= 0 && ++t[i] == choices) {
                t[i] = 0;
                i--;
            }
            if (i < 0) {
                return out;
            }
        }
    }

    public ViTConfig config() {
        return config;
    }

    public List<String> targets() {
        return targets;
    }

    public double[] ratios() {
        return ratios.clone();
    }

    public int depth() {
        return config.depth();
    }

    /** The tuples block {@code b} allows. */
    public List<int[]> allowed(int b) {
        return allowed.get(b);
    }

    /** {@code n} architectures drawn uniformly from the space, block by block (each block's tuple uniformly from those it allows). */
    public List<Candidate> randomCandidates(int n, long seed) {
        java.util.Random rng = new java.util.Random(seed);
        List<Candidate> out = new ArrayList<>();
        int nt = targets.size();
        for (int i = 0; i < n; i++) {
            int[] genes = new int[depth() * nt];
            for (int b = 0; b < depth(); b++) {
                List<int[]> a = allowed.get(b);
                System.arraycopy(a.get(rng.nextInt(a.size())), 0, genes, b * nt, nt);
            }
            out.add(new Candidate(genes, nt));
        }
        return out;
    }

    public boolean allows(Candidate c) {
        if (c.blocks() != depth() || c.targets() != targets.size()) {
            return false;
        }
        for (int b = 0; b < depth(); b++) {
            int[] tuple = c.tuple(b);
            if (allowed.get(b).stream().noneMatch(t -> Arrays.equals(t, tuple))) {
                return false;
            }
        }
        return true;
    }

    /** Number of architectures in the space. */
    public BigInteger size() {
        BigInteger n = BigInteger.ONE;
        for (List<int[]> a : allowed) {
            n = n.multiply(BigInteger.valueOf(a.size()));
        }
        return n;
    }

    /** Whether every block allows every tuple. */
    public boolean isFull() {
        long all = (long) Math.pow(ratios.length, targets.size());
        return allowed.stream().allMatch(a -> a.size() == all);
    }

    /** The module path of target {@code t} in block {@code b}, e.g. {@code blocks.3.mlp.fc1}. */
    public String modulePath(int b, int t) {
        return "blocks." + b + "." + targets.get(t);
    }

    /** The path of every target module of the space, block by block ({@link #modulePath} order). */
    public List<String> modulePaths() {
        List<String> paths = new ArrayList<>();
        for (int b = 0; b < depth(); b++) {
            for (int t = 0; t < targets.size(); t++) {
                paths.add(modulePath(b, t));
            }
        }
        return paths;
    }

    public int inFeatures(int t) {
        return switch (targets.get(t)) {
            case "mlp.fc2" -> config.mlpHidden();
            default -> config.embedDim();
        };
    }

    public int outFeatures(int t) {
        return switch (targets.get(t)) {
            case "attn.qkv" -> 3 * config.embedDim();
            case "mlp.fc1" -> config.mlpHidden();
            default -> config.embedDim();
        };
    }

    /** The rank of target {@code t} at ratio index {@code i}: round(ratio · min(in, out)), at least 1. */
    public int rank(int t, int i) {
        int full = Math.min(inFeatures(t), outFeatures(t));
        return Math.max(1, (int) Math.round(ratios[i] * full));
    }

    /** The distinct ranks target {@code t} can take, ascending. */
    public int[] ranks(int t) {
        return java.util.stream.IntStream.range(0, ratios.length).map(i -> rank(t, i)).distinct().toArray();
    }

    /** The rank of every target module under {@code c}, by module path (model order). */
    public java.util.Map<String, Integer> ranks(Candidate c) {
        java.util.Map<String, Integer> m = new java.util.LinkedHashMap<>();
        for (int b = 0; b < depth(); b++) {
            for (int t = 0; t < targets.size(); t++) {
                m.put(modulePath(b, t), rank(t, c.ratioIndex(b, t)));
            }
        }
        return m;
    }

    /** Every target module at rank round(ratio · min(in, out)): uniform-rank architectures off the grid. */
    public java.util.Map<String, Integer> uniformRanks(double ratio) {
        java.util.Map<String, Integer> m = new java.util.LinkedHashMap<>();
        for (int b = 0; b < depth(); b++) {
            for (int t = 0; t < targets.size(); t++) {
                int full = Math.min(inFeatures(t), outFeatures(t));
                m.put(modulePath(b, t), Math.max(1, Math.min(full, (int) Math.round(ratio * full))));
            }
        }
        return m;
    }

    /**
     * The uniform-rank architecture ({@link #uniformRanks}) of the largest ratio whose
     * {@code cost} is not above {@code budget}, the ratio found by bisection; any cost that
     * grows with the ratio will do (FLOPs, predicted latency).
     */
    public java.util.Map<String, Integer> uniformAtMost(
            java.util.function.ToDoubleFunction<java.util.Map<String, Integer>> cost, double budget) {
        double lo = 0;
        double hi = 1;
        java.util.Map<String, Integer> best = uniformRanks(1e-9);
        for (int i = 0; i < 50; i++) {
            double mid = (lo + hi) / 2;
            java.util.Map<String, Integer> r = uniformRanks(mid);
            if (cost.applyAsDouble(r) <= budget) {
                lo = mid;
                best = r;
            } else {
                hi = mid;
            }
        }
        return best;
    }

    /** The target index of a module path's kind (attn.qkv, ...). */
    public int targetOf(String path) {
        for (int t = 0; t < targets.size(); t++) {
            if (path.endsWith("." + targets.get(t))) {
                return t;
            }
        }
        throw new IllegalArgumentException(path + " is not a target module of this search space");
    }

    /** The largest rank of target {@code t}. */
    public int maxRank(int t) {
        return rank(t, ratios.length - 1);
    }

    /** JSON form (also the on-disk format of {@code --search-space FILE}). */
    public Json toJson() {
        List<List<int[]>> blocks = new ArrayList<>(allowed);
        return new Json(targets, ratios.clone(), blocks);
    }

    public static SearchSpace fromJson(Json j, ViTConfig config, String source) {
        if (j == null || j.targets() == null || j.ratios() == null || j.blocks() == null) {
            throw new FormatException(source + ": a search space needs targets, ratios and blocks");
        }
        try {
            return new SearchSpace(config, j.targets(), j.ratios(), j.blocks());
        } catch (IllegalArgumentException e) {
            throw new FormatException(source + ": " + e.getMessage());
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    /** Reads a search space JSON file for a model of {@code config}. */
    public static SearchSpace read(java.nio.file.Path file, ViTConfig config) {
        try {
            return fromJson(JSON.readValue(file.toFile(), Json.class), config, file.toString());
        } catch (java.io.FileNotFoundException | java.nio.file.NoSuchFileException e) {
            throw new FormatException(file + ": search space file not found");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new FormatException(file + ": not a search space JSON (" + FormatException.oneLine(e.getOriginalMessage()) + ")");
        } catch (java.io.IOException e) {
            throw new FormatException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** Writes this space as JSON, atomically. */
    public void write(java.nio.file.Path file) {
        try {
            dev.flora.engine.io.AtomicFiles.writeString(file,
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson()) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The serialized form: targets, ratios and, per block, the allowed tuples of ratio indices. */
    public record Json(@JsonProperty("targets") List<String> targets, @JsonProperty("ratios") double[] ratios,
                       @JsonProperty("blocks") List<List<int[]>> blocks) {
    }
}
