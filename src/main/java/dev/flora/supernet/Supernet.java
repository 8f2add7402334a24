package dev.flora.supernet;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.config.Method;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.ModelIO;
import dev.flora.models.ModelInput;
import dev.flora.models.ModelPreprocessing;
import dev.flora.models.ModelSource;
import dev.flora.engine.io.SafeTensors;
import dev.flora.engine.linalg.LowRankFactors;
import dev.flora.engine.nn.ChoiceLinear;
import dev.flora.engine.nn.Linear;
import dev.flora.engine.nn.LinearLayer;
import dev.flora.engine.nn.LinearSpec;
import dev.flora.engine.nn.LowRankLinear;
import dev.flora.engine.nn.Param;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.space.Candidate;
import dev.flora.space.SearchSpace;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A low-rank supernet: a ViT whose target modules are factorized so that any architecture of
 * the search space is a rank setting of the same weights. Built from a dense checkpoint by SVD
 * in the FLORA reference convention (W = U · VT, singular values folded into VT, bias on U).
 * Saved as safetensors with the search space and the method in the metadata.
 */
public final class Supernet {
    public static final String SPACE_KEY = "flora.search_space";
    public static final String METHOD_KEY = "flora.method";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final VisionTransformer model;
    private final SearchSpace space;
    private final Method method;
    private final ModelInput input;

    private Supernet(VisionTransformer model, SearchSpace space, Method method, ModelInput input) {
        this.model = model;
        this.space = space;
        this.method = method;
        this.input = input;
    }

    /** The backbone's input (preprocessing, class names), recorded in the supernet file and its exports. */
    public ModelInput input() {
        return input;
    }

    public VisionTransformer model() {
        return model;
    }

    public SearchSpace space() {
        return space;
    }

    public Method method() {
        return method;
    }

    /**
     * The factorized layout of every target module under {@code method}. A module the space only
     * ever uses at its largest ratio stays dense (the other blocks of a local supernet, say).
     */
    static Map<String, LinearSpec> specs(SearchSpace space, Method method) {
        Map<String, LinearSpec> specs = new LinkedHashMap<>();
        for (int b = 0; b < space.depth(); b++) {
            for (int t = 0; t < space.targets().size(); t++) {
                if (alwaysDense(space, b, t)) {
                    continue;
                }
                int[] ranks = usedRanks(space, b, t);
                specs.put(space.modulePath(b, t), method.inheritsWeights()
                        ? new LinearSpec.LowRank(ranks[ranks.length - 1]) : new LinearSpec.IndependentRanks(ranks));
            }
        }
        return specs;
    }

    /** Whether block b only allows target t at the largest ratio, which is the dense module. */
    static boolean alwaysDense(SearchSpace space, int b, int t) {
        int last = space.ratios().length - 1;
        return space.ratios()[last] == 1.0 && space.allowed(b).stream().allMatch(tuple -> tuple[t] == last);
    }

    /** The distinct ranks block b uses for target t, ascending. */
    private static int[] usedRanks(SearchSpace space, int b, int t) {
        return space.allowed(b).stream().mapToInt(tuple -> space.rank(t, tuple[t])).distinct().sorted().toArray();
    }

    /** SVD-initializes a supernet from a dense ViT (which must match the space's config). */
    public static Supernet fromDense(VisionTransformer dense, ModelInput input, SearchSpace space, Method method) {
        return fromDense(dense, input, space, method, Map.of());
    }

    /**
     * As {@link #fromDense(VisionTransformer, ModelInput, SearchSpace, Method)}, with the modules
     * that {@code factors} names (path to W = U · VT, components by importance) initialized from
     * those factors instead of the plain SVD: activation-aware ones, or an SVD already computed.
     */
    public static Supernet fromDense(VisionTransformer dense, ModelInput input, SearchSpace space, Method method,
                                     Map<String, LowRankFactors> factors) {
        if (!dense.config().equals(space.config())) {
            throw new IllegalArgumentException("search space was made for " + space.config() + ", the model is "
                    + dense.config());
        }
        Backend backend = dense.backend();
        VisionTransformer net = new VisionTransformer(backend, space.config(), specs(space, method));
        for (Param p : net.arena().params()) {
            if (dense.arena().contains(p.name())) {
                backend.copy(dense.arena().get(p.name()).value(), p.value());
            }
        }
        for (int b = 0; b < space.depth(); b++) {
            for (int t = 0; t < space.targets().size(); t++) {
                if (alwaysDense(space, b, t)) {
                    continue;
                }
                String path = space.modulePath(b, t);
                LinearLayer source = dense.linears().get(path);
                if (!(source instanceof Linear d)) {
                    throw new IllegalArgumentException(path + " of the backbone is not a dense linear layer");
                }
                LowRankFactors f = factors.containsKey(path) ? factors.get(path)
                        : LowRankFactors.of(backend, d.weight().value(), d.outFeatures(), d.inFeatures());
                if (f.out() != d.outFeatures() || f.in() != d.inFeatures()) {
                    throw new IllegalArgumentException(path + ": factors of a " + f.out() + "x" + f.in() + " matrix for a "
                            + d.outFeatures() + "x" + d.inFeatures() + " layer");
                }
                LinearLayer target = net.linears().get(path);
                if (target instanceof LowRankLinear l) {
                    initialize(backend, l, f, d);
                } else {
                    for (LowRankLinear choice : ((ChoiceLinear) target).choices()) {
                        initialize(backend, choice, f, d);
                    }
                }
            }
        }
        Supernet s = new Supernet(net, space, method, input);
        s.apply(s.largest());
        return s;
    }

    /** The rank-R truncation of the factors, and the dense bias, into {@code l}. */
    private static void initialize(Backend backend, LowRankLinear l, LowRankFactors f, Linear dense) {
        int r = l.maxRank();
        backend.upload(f.vtRows(r), 0, l.vt().value());
        backend.upload(f.uColumns(r), 0, l.u().value());
        backend.copy(dense.bias().value(), l.bias().value());
    }

    /** Sets every target module to the rank {@code c} gives it. */
    public void apply(Candidate c) {
        if (!space.allows(c)) {
            throw new IllegalArgumentException("candidate " + c + " is not in the search space");
        }
        for (int b = 0; b < space.depth(); b++) {
            for (int t = 0; t < space.targets().size(); t++) {
                if (!alwaysDense(space, b, t)) {
                    model.setRank(space.modulePath(b, t), space.rank(t, c.ratioIndex(b, t)));
                }
            }
        }
    }

    /**
     * Sets target modules to explicit ranks (path to rank): architectures off the search grid,
     * such as the uniform-rank baseline at matched FLOPs. An SPOS supernet accepts its choices only.
     */
    public void applyRanks(Map<String, Integer> ranks) {
        ranks.forEach((path, r) -> {
            LinearLayer l = model.linears().get(path);
            if (l instanceof dev.flora.engine.nn.RankedLinear) {
                model.setRank(path, r);
            } else if (r != Math.min(l.inFeatures(), l.outFeatures())) {
                throw new IllegalArgumentException(path + " is dense in this supernet; it has no rank " + r);
            }
        });
    }

    /** Per block, the allowed tuple with the largest (or smallest) sum of ratios. */
    private Candidate extreme(boolean largest) {
        int nt = space.targets().size();
        int[] genes = new int[space.depth() * nt];
        for (int b = 0; b < space.depth(); b++) {
            int[] best = null;
            for (int[] t : space.allowed(b)) {
                if (best == null || Integer.compare(sum(t), sum(best)) * (largest ? 1 : -1) > 0) {
                    best = t;
                }
            }
            System.arraycopy(best, 0, genes, b * nt, nt);
        }
        return new Candidate(genes, nt);
    }

    private static int sum(int[] t) {
        int s = 0;
        for (int v : t) {
            s += v;
        }
        return s;
    }

    public Candidate largest() {
        return extreme(true);
    }

    public Candidate smallest() {
        return extreme(false);
    }

    /** Metadata that makes a supernet file self-describing. */
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        try {
            m.put(SPACE_KEY, JSON.writeValueAsString(space.toJson()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        m.put(METHOD_KEY, method.label());
        m.putAll(input.metadata());
        return m;
    }

    public void save(Path path) {
        ModelIO.save(model, path, metadata());
    }

    /** Loads a supernet written by {@link #save} (or a supernet training checkpoint). */
    public static Supernet load(Path path, Backend backend) {
        SafeTensors file = SafeTensors.open(path);
        String spaceJson = file.metadata().get(SPACE_KEY);
        String method = file.metadata().get(METHOD_KEY);
        if (spaceJson == null || method == null) {
            throw new FormatException(path + ": not a supernet (no " + SPACE_KEY + " / " + METHOD_KEY
                    + " in __metadata__); build one with flora supernet");
        }
        VisionTransformer model = ModelIO.load(path, backend, OptionalInt.empty());
        SearchSpace space;
        try {
            space = SearchSpace.fromJson(JSON.readValue(spaceJson, SearchSpace.Json.class), model.config(),
                    path.toString());
        } catch (JsonProcessingException e) {
            throw new FormatException(path + ": corrupt " + SPACE_KEY + " (" + FormatException.oneLine(e.getOriginalMessage()) + ")");
        }
        Method m = Method.parse(method);
        Map<String, LinearSpec> expected = specs(space, m);
        Map<String, LinearSpec> found = ModelIO.linearSpecs(file);
        if (!sameLayout(expected, found)) {
            throw new FormatException(path + ": the factorized modules do not match its search space");
        }
        ModelInput input = ModelInput.of(new ModelSource.LoadedModel(model, file.metadata(), path.toString()),
                ModelPreprocessing.Overrides.none(), System.err::println);
        Supernet s = new Supernet(model, space, m, input);
        s.apply(s.largest());
        return s;
    }

    private static boolean sameLayout(Map<String, LinearSpec> a, Map<String, LinearSpec> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (var e : a.entrySet()) {
            LinearSpec x = e.getValue();
            LinearSpec y = b.get(e.getKey());
            boolean same = x instanceof LinearSpec.LowRank lx && y instanceof LinearSpec.LowRank ly
                    ? lx.maxRank() == ly.maxRank()
                    : x instanceof LinearSpec.IndependentRanks ix && y instanceof LinearSpec.IndependentRanks iy
                    && java.util.Arrays.equals(ix.ranks(), iy.ranks());
            if (!same) {
                return false;
            }
        }
        return true;
    }
}
