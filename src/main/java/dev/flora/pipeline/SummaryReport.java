package dev.flora.pipeline;

import dev.flora.config.CompressConfig;
import dev.flora.report.Accuracy;
import dev.flora.report.ParetoFront;
import dev.flora.search.EvolutionarySearch;
import dev.flora.space.Candidate;
import dev.flora.space.SearchSpace;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The Markdown summary of a compress run: the comparison table, the architecture, the fronts. */
final class SummaryReport {
    private SummaryReport() {
    }

    static String markdown(CompressConfig config, SearchSpace space, Compressor.Scored dense, Compressor.Scored flora,
                           Compressor.Scored uniform, List<Compressor.Scored> allocations, Candidate best, Map<String, Integer> floraRanks,
                           Map<String, Integer> uniformRanks, Map<String, EvolutionarySearch.State> searches,
                           Map<String, List<ParetoFront.Point>> grids, Map<String, Double> stageSeconds) {
        StringBuilder md = new StringBuilder();
        md.append("# FLORA compression of `").append(config.model()).append("` on `").append(config.data())
                .append("`\n\n");
        md.append(String.format(Locale.ROOT, "Search space: %s architectures (targets %s, ratios %s); FLOPs bounds "
                        + "[%s, %s] of the dense model; supernet %d epochs; search population %d, %d generations, "
                        + "fitness %s. "
                        + "Machine: %d cores, %s.%n%n", space.size(), space.targets(),
                java.util.Arrays.toString(space.ratios()), config.search().minFlops(), config.search().maxFlops(),
                config.supernet().loop().epochs(), config.search().evolution().population(),
                config.search().evolution().generations(), config.search().fitness().label(),
                Runtime.getRuntime().availableProcessors(), System.getProperty("os.arch")));
        md.append("| model | FLOPs (M MAC) | FLOPs vs dense | params | val top-1 | test top-1 | test loss |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|\n");
        List<Compressor.Scored> rows = new java.util.ArrayList<>(List.of(dense, flora, uniform));
        rows.addAll(allocations);
        for (Compressor.Scored s : rows) {
            md.append(String.format(Locale.ROOT, "| %s | %.2f | %.1f %% | %,d | %.2f %% | %.2f %% | %.4f |%n", s.name(),
                    s.flops() / 1e6, 100.0 * s.flops() / dense.flops(), s.params(), s.valTop1(), s.testTop1(),
                    s.testLoss()));
        }
        md.append(String.format(Locale.ROOT, "%nFLORA vs dense: %s test top-1 at %.1f %% of the FLOPs. "
                        + "FLORA vs %s: %s. Paired over the %d test images; no fine-tuning after the search.%n%n",
                versus(flora, dense), 100.0 * flora.flops() / dense.flops(), uniform.name(), versus(flora, uniform),
                flora.testCorrect().length));
        for (Compressor.Scored a : allocations) {
            md.append(String.format(Locale.ROOT, "FLORA vs %s (no supernet, no fine-tuning): %s.%n", a.name(),
                    versus(flora, a)));
        }
        if (!allocations.isEmpty()) {
            md.append('\n');
        }

        md.append("## Searched architecture (ranks)\n\n| block |");
        for (String t : space.targets()) {
            md.append(' ').append(t).append(" |");
        }
        md.append("\n|---|");
        md.append("---:|".repeat(space.targets().size()));
        md.append('\n');
        for (int b = 0; b < space.depth(); b++) {
            md.append("| ").append(b).append(" |");
            for (int t = 0; t < space.targets().size(); t++) {
                int r = floraRanks.get(space.modulePath(b, t));
                int full = Math.min(space.inFeatures(t), space.outFeatures(t));
                md.append(String.format(Locale.ROOT, " %d / %d |", r, full));
            }
            md.append('\n');
        }
        int u = uniformRanks.values().iterator().next();
        md.append(String.format(Locale.ROOT, "%nArchitecture code `%s`; the uniform baseline uses rank %d of %d "
                + "(and the same ratio in every module).%n%n", best.encode(), u,
                Math.min(space.inFeatures(0), space.outFeatures(0))));

        md.append("## Supernets and fronts\n\n");
        md.append("| supernet | architectures evaluated | val top-1 of the fittest within bounds | best val top-1 at ≤ 50 % "
                + "FLOPs |\n|---|---:|---:|---:|\n");
        for (var e : searches.entrySet()) {
            List<ParetoFront.Point> pts = Compressor.points(e.getValue());
            md.append(String.format(Locale.ROOT, "| %s | %d | %.2f %% | %.2f %% |%n", e.getKey().toUpperCase(Locale.ROOT),
                    pts.size(), e.getValue().best().top1(), ParetoFront.bestAtMost(pts, dense.flops() / 2)));
        }
        md.append("\nUniform-rank subnets of each supernet (validation top-1):\n\n| supernet | ratio | FLOPs (M) | "
                + "val top-1 |\n|---|---:|---:|---:|\n");
        for (var e : grids.entrySet()) {
            for (ParetoFront.Point p : e.getValue()) {
                md.append(String.format(Locale.ROOT, "| %s | %s | %.2f | %.2f %% |%n", e.getKey().toUpperCase(Locale.ROOT),
                        p.label().replace("uniform ", ""), p.flops() / 1e6, p.top1()));
            }
        }
        md.append("\n![Pareto fronts](").append(Compressor.PARETO_PNG).append(")\n\n");
        if (!stageSeconds.isEmpty()) {
            md.append("## Time (this invocation)\n\n| stage | minutes |\n|---|---:|\n");
            stageSeconds.forEach((k, v) -> md.append(String.format(Locale.ROOT, "| %s | %.1f |%n", k, v / 60)));
        }
        return md.toString();
    }

    /**
     * {@code a}'s test top-1 minus {@code b}'s with its paired standard error and 95 % interval,
     * and whether that is more than noise: "+0.05 points (SE 0.21, 95 % CI -0.36 to +0.46), within
     * the noise".
     */
    static String versus(Compressor.Scored a, Compressor.Scored b) {
        Accuracy.Difference d = a.versus(b);
        return d.describe() + (d.significant() ? ", larger than the noise" : ", within the noise");
    }
}
