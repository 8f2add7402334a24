package dev.flora.search;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.config.EvolutionSettings;
import dev.flora.config.FitnessSignal;
import dev.flora.engine.io.AtomicFiles;
import dev.flora.engine.io.FormatException;
import dev.flora.space.Candidate;
import dev.flora.space.CostModel;
import dev.flora.space.FlopsBounds;
import dev.flora.space.SearchSpace;
import dev.flora.supernet.Sampler;
import dev.flora.train.Progress;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;

/**
 * The evolutionary search of the FLORA (and SPOS/AutoFormer) reference: a random first
 * population; then, each generation, mutations of the top-k found so far (each block re-drawn
 * with probability p), crossovers of two of them (each block from either parent), and random
 * architectures to fill the population. Candidates outside the FLOPs bounds (and, given a
 * latency table, over the latency budget: {@link SearchBound}), or seen before, are rejected.
 * Fitness (by default validation top-1 with inherited weights; see {@link FitnessSignal}) is
 * computed once per architecture, higher being better, and top-1 is kept beside it. The state
 * is written after every generation; randomness derives from (seed, generation), so a resumed
 * search ends exactly where an uninterrupted one would.
 */
public final class EvolutionarySearch {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Draws per wanted candidate before a generation makes do with fewer. */
    private static final int TRIES_PER_CANDIDATE = 50;

    /** An architecture's fitness (higher is better) and its validation top-1 in percent. */
    public record Score(double fitness, double top1) {
    }

    /** Scores an architecture. */
    @FunctionalInterface
    public interface Fitness {
        Score score(Candidate c);
    }

    /** An architecture with its cost, its predicted latency (under a latency budget, else null) and fitness. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Evaluated(@JsonProperty("arch") String arch, @JsonProperty("flops") long flops,
                           @JsonProperty("params") long params, @JsonProperty("top1") double top1,
                           @JsonProperty("fitness") Double fitness,
                           @JsonProperty("generation") int generation,
                           @JsonProperty("latency_ms") Double latencyMs) {
        public Evaluated {
            // states written before the fitness setting ranked by top-1
            fitness = fitness == null ? top1 : fitness;
        }

        public Candidate candidate() {
            return Candidate.decode(arch);
        }
    }

    /** Summary of one generation: the fittest so far (its fitness and top-1) and the top-k's mean fitness. */
    public record Generation(@JsonProperty("generation") int generation, @JsonProperty("evaluated") int evaluated,
                             @JsonProperty("best_top1") double bestTop1, @JsonProperty("best_fitness") Double bestFitness,
                             @JsonProperty("mean_top_k") double meanTopK,
                             @JsonProperty("best_arch") String bestArch) {
        public Generation {
            bestFitness = bestFitness == null ? bestTop1 : bestFitness;
        }
    }

    /** Everything needed to resume: written as JSON after every generation; latency_ms only under a budget. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record State(@JsonProperty("settings") EvolutionSettings settings,
                        @JsonProperty("fitness") FitnessSignal fitness, @JsonProperty("flops_lower") long flopsLower,
                        @JsonProperty("flops_upper") long flopsUpper, @JsonProperty("latency_ms") Double latencyMs,
                        @JsonProperty("generations_done") int generationsDone,
                        @JsonProperty("evaluated") List<Evaluated> evaluated,
                        @JsonProperty("top_k") List<String> topK,
                        @JsonProperty("history") List<Generation> history) {
        public State {
            fitness = fitness == null ? FitnessSignal.TOP1 : fitness;
        }

        /** The best architecture found. */
        public Evaluated best() {
            return evaluated.stream().filter(e -> e.arch().equals(topK.get(0))).findFirst().orElseThrow();
        }
    }

    private final SearchSpace space;
    private final CostModel cost;
    private final EvolutionSettings settings;
    private final FlopsBounds bounds;
    /** The latency bound, or null for FLOPs bounds alone. */
    private final SearchBound latency;
    /** Every bound a candidate must meet: FLOPs first, then latency. */
    private final List<SearchBound> limits;
    private final FitnessSignal signal;
    private final Fitness fitness;
    private final Path stateFile;
    private final PrintStream out;

    public EvolutionarySearch(SearchSpace space, EvolutionSettings settings, FlopsBounds bounds,
                              FitnessSignal signal, Fitness fitness, Path stateFile, PrintStream out) {
        this(space, settings, bounds, null, signal, fitness, stateFile, out);
    }

    /**
     * A search within FLOPs {@code bounds} and, when {@code latency} is not null, within that
     * latency bound too, ranking by {@code fitness}, which computes {@code signal}. Fails with the
     * reachable range when no architecture meets one of the bounds.
     */
    public EvolutionarySearch(SearchSpace space, EvolutionSettings settings, FlopsBounds bounds, SearchBound latency,
                              FitnessSignal signal, Fitness fitness, Path stateFile, PrintStream out) {
        this.space = space;
        this.cost = new CostModel(space);
        this.settings = settings;
        this.bounds = bounds;
        this.latency = latency;
        this.limits = latency == null ? List.of(SearchBound.flops(space, bounds))
                : List.of(SearchBound.flops(space, bounds), latency);
        this.signal = signal;
        this.fitness = fitness;
        this.stateFile = stateFile;
        this.out = out;
        limits.forEach(l -> l.checkReachable(space));
    }

    /** The fewest and the most multiply-accumulates an architecture of {@code space} can have. */
    public static long[] flopsRange(SearchSpace space) {
        double[] r = SearchBound.flops(space, new FlopsBounds(0, Long.MAX_VALUE)).range(space);
        return new long[] {(long) r[0], (long) r[1]};
    }

    /** Runs up to {@code generationBudget} more generations (all remaining by default). */
    public State run(boolean resume, int generationBudget) {
        State state = resume ? load() : new State(settings, signal, bounds.lower(), bounds.upper(), latencyMs(), 0,
                new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        Map<Candidate, Evaluated> seen = new LinkedHashMap<>();
        for (Evaluated e : state.evaluated()) {
            seen.put(e.candidate(), e);
        }
        List<Candidate> topK = new ArrayList<>();
        state.topK().forEach(a -> topK.add(Candidate.decode(a)));
        List<Generation> history = new ArrayList<>(state.history());
        int stop = (int) Math.min(settings.generations(), (long) state.generationsDone() + generationBudget);
        for (int g = state.generationsDone(); g < stop; g++) {
            Random rng = new Random(settings.seed() * 0x9E3779B97F4A7C15L + g * 0xBF58476D1CE4E5B9L);
            List<Candidate> population = g == 0 ? randomFill(new ArrayList<>(), seen.keySet(), rng)
                    : nextGeneration(topK, seen.keySet(), rng);
            int fresh = 0;
            String task = String.format(Locale.ROOT, "generation %d/%d", g + 1, settings.generations());
            try (Progress progress = Progress.create(task, population.size(), out)) {
                for (Candidate c : population) {
                    if (!seen.containsKey(c)) {
                        Score score = fitness.score(c);
                        seen.put(c, new Evaluated(c.encode(), cost.macs(c), cost.params(c), score.top1(),
                                score.fitness(), g, latency == null ? null : latency.cost(c)));
                        fresh++;
                    }
                    progress.step(1, "best " + shown(bestFitness(seen)));
                }
            }
            topK.clear();
            topK.addAll(selectTopK(seen));
            double mean = topK.stream().mapToDouble(c -> seen.get(c).fitness()).average().orElse(0);
            Evaluated best = seen.get(topK.get(0));
            history.add(new Generation(g + 1, fresh, best.top1(), best.fitness(), mean, best.arch()));
            out.printf(Locale.ROOT, "generation %d/%d: %d evaluated, best %s%s at %.2fM FLOPs%s, top-%d mean %s%n",
                    g + 1, settings.generations(), fresh, shown(best.fitness()), signal == FitnessSignal.TOP1 ? ""
                            : String.format(Locale.ROOT, " (val top-1 %.2f%%)", best.top1()), best.flops() / 1e6,
                    best.latencyMs() == null ? ""
                            : String.format(Locale.ROOT, " and %.3f ms predicted", best.latencyMs()), topK.size(),
                    shown(mean));
            state = new State(settings, signal, bounds.lower(), bounds.upper(), latencyMs(), g + 1,
                    new ArrayList<>(seen.values()),
                    topK.stream().map(Candidate::encode).toList(), new ArrayList<>(history));
            save(state);
        }
        return state;
    }

    private double bestFitness(Map<Candidate, Evaluated> seen) {
        return seen.values().stream().filter(this::inBounds).mapToDouble(Evaluated::fitness).max().orElse(0);
    }

    /** A fitness as progress shows it: "85.20%" for top-1, "loss -0.4321" or "kl -0.0123" for the others. */
    private String shown(double f) {
        return signal == FitnessSignal.TOP1 ? String.format(Locale.ROOT, "%.2f%%", f)
                : String.format(Locale.ROOT, "%s %.4f", signal.label(), f);
    }

    /** The latency budget in milliseconds, null without one. */
    private Double latencyMs() {
        return latency == null ? null : latency.upper();
    }

    private boolean inBounds(Evaluated e) {
        return inBounds(e.candidate());
    }

    private boolean inBounds(Candidate c) {
        return limits.stream().allMatch(l -> l.admits(c));
    }

    /** The best k in bounds: highest fitness, then fewer FLOPs, then the encoding (a total order). */
    private List<Candidate> selectTopK(Map<Candidate, Evaluated> seen) {
        return seen.values().stream().filter(this::inBounds)
                .sorted(Comparator.comparingDouble(Evaluated::fitness).reversed()
                        .thenComparingLong(Evaluated::flops).thenComparing(Evaluated::arch))
                .limit(settings.topK()).map(Evaluated::candidate).toList();
    }

    private List<Candidate> nextGeneration(List<Candidate> parents, Set<Candidate> seen, Random rng) {
        List<Candidate> next = new ArrayList<>();
        Set<Candidate> taken = new HashSet<>(seen);
        for (int i = 0; i < settings.mutations() * TRIES_PER_CANDIDATE && next.size() < settings.mutations(); i++) {
            Candidate p = parents.get(rng.nextInt(parents.size()));
            Candidate c = p;
            for (int b = 0; b < space.depth(); b++) {
                if (rng.nextDouble() < settings.mutationProb()) {
                    List<int[]> allowed = space.allowed(b);
                    c = c.withTuple(b, allowed.get(rng.nextInt(allowed.size())));
                }
            }
            accept(c, next, taken);
        }
        int target = next.size() + settings.crossovers();
        for (int i = 0; i < settings.crossovers() * TRIES_PER_CANDIDATE && next.size() < target
                && parents.size() > 1; i++) {
            Candidate a = parents.get(rng.nextInt(parents.size()));
            Candidate b = parents.get(rng.nextInt(parents.size()));
            if (a.equals(b)) {
                continue;
            }
            Candidate c = a;
            for (int blk = 0; blk < space.depth(); blk++) {
                if (rng.nextBoolean()) {
                    c = c.withTuple(blk, b.tuple(blk));
                }
            }
            accept(c, next, taken);
        }
        return randomFill(next, taken, rng);
    }

    private boolean accept(Candidate c, List<Candidate> into, Set<Candidate> taken) {
        if (inBounds(c) && taken.add(c)) {
            into.add(c);
            return true;
        }
        return false;
    }

    private List<Candidate> randomFill(List<Candidate> into, Set<Candidate> seen, Random rng) {
        Sampler uniform = new Sampler(space, Sampler.Kind.UNIFORM);
        Set<Candidate> taken = new HashSet<>(seen);
        taken.addAll(into);
        int wanted = settings.population() - into.size();
        int draws = Math.max(1, wanted) * TRIES_PER_CANDIDATE;
        for (int i = 0; i < draws && into.size() < settings.population(); i++) {
            accept(repair(uniform.sample(rng), rng), into, taken);
        }
        if (into.isEmpty() && seen.isEmpty()) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "no architecture found within the %s "
                    + "after %d random draws; widen them", SearchBound.describe(limits), draws));
        }
        return into;
    }

    /**
     * Walks a random architecture into the bounds: while it costs too much under the first bound
     * it breaks, a random block takes a random cheaper tuple (too little: a dearer one). Uniform
     * draws alone rarely land in a narrow window; this keeps the random part of each generation
     * random but legal.
     */
    private Candidate repair(Candidate c, Random rng) {
        for (int step = 0; step < 50 * space.depth(); step++) {
            Candidate now = c;
            SearchBound broken = limits.stream().filter(l -> !l.admits(now)).findFirst().orElse(null);
            if (broken == null) {
                return c;
            }
            boolean tooDear = broken.tooDear(c);
            int b = rng.nextInt(space.depth());
            double current = broken.blockCost(b, c.tuple(b));
            List<int[]> moves = new ArrayList<>();
            for (int[] t : space.allowed(b)) {
                double d = broken.blockCost(b, t);
                if (tooDear ? d < current : d > current) {
                    moves.add(t);
                }
            }
            if (!moves.isEmpty()) {
                c = c.withTuple(b, moves.get(rng.nextInt(moves.size())));
            }
        }
        return c;
    }

    private void save(State state) {
        try {
            AtomicFiles.writeString(stateFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state) + "\n");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private State load() {
        if (!Files.exists(stateFile)) {
            throw new FormatException(stateFile + ": no search state to resume from");
        }
        State s;
        try {
            s = JSON.readValue(stateFile.toFile(), State.class);
        } catch (IOException e) {
            throw new FormatException(stateFile + ": corrupt search state (" + e.getMessage() + ")");
        }
        if (s.fitness() != signal) {
            // scores of two signals cannot be ranked together
            throw new IllegalArgumentException(stateFile + ": the search was started with fitness "
                    + s.fitness().label() + ", not " + signal.label() + "; resume it with that, or start a new one");
        }
        if (!s.settings().equals(settings) || s.flopsLower() != bounds.lower() || s.flopsUpper() != bounds.upper()
                || !Objects.equals(s.latencyMs(), latencyMs())) {
            throw new IllegalArgumentException(stateFile + ": the search was started with other settings ("
                    + s.settings() + ", FLOPs [" + s.flopsLower() + ", " + s.flopsUpper() + "]"
                    + (s.latencyMs() == null ? "" : ", latency " + s.latencyMs() + " ms") + "); resume it with "
                    + "those, or start a new one");
        }
        return s;
    }

    public static State readState(Path file) {
        try {
            return JSON.readValue(file.toFile(), State.class);
        } catch (IOException e) {
            throw new FormatException(file + ": not a search state (" + e.getMessage() + ")");
        }
    }
}
