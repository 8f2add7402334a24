package dev.flora.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flora.cli.CliRunner;
import dev.flora.config.AblationConfig;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.io.SafeTensors;
import dev.flora.engine.io.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.latency.LatencyPredictor;
import dev.flora.latency.LatencyTable;
import dev.flora.latency.Machine;
import dev.flora.latency.Measurement;
import dev.flora.latency.StubTables;
import dev.flora.space.Candidate;
import dev.flora.space.SearchSpace;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FLORA commands end to end on a small PyTorch-trained backbone and the bundled data:
 * supernet, search (killed and resumed), export, compress, and their bad-input errors.
 */
class PipelineCliTest {
    @TempDir
    static Path dir;

    static Path backbone;
    static Path supernet;

    static CliRunner.Run run(String... args) {
        return CliRunner.run(args);
    }

    @BeforeAll
    static void trainASupernet() throws Exception {
        backbone = Path.of(PipelineCliTest.class.getResource("/golden/timm_vit_tiny_fmnist.safetensors").toURI());
        Path runDir = dir.resolve("supernet");
        CliRunner.Run r = run("supernet", "--model", backbone.toString(), "--data", "fmnist-subset", "--out", runDir.toString(),
                "--epochs", "1", "--train-limit", "512", "--batch-size", "64", "--lr", "2e-4");
        assertEquals(0, r.code(), r.err() + r.out());
        supernet = runDir.resolve("supernet.safetensors");
        assertTrue(Files.exists(supernet));
    }

    private static String[] searchArgs(Path out, String... extra) {
        String[] base = {"search", "--supernet", supernet.toString(), "--data", "fmnist-subset", "--out",
            out.toString(), "--population", "8", "--top-k", "3", "--mutations", "3", "--crossovers", "3",
            "--generations", "3", "--val-limit", "150", "--seed", "5"};
        String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    @Test
    void killedAndResumedSearchEndsLikeAnUninterruptedOne() throws Exception {
        Path straight = dir.resolve("search-straight");
        assertEquals(0, run(searchArgs(straight)).code());
        Path split = dir.resolve("search-split");
        assertEquals(0, run(searchArgs(split, "--generations-this-run", "1")).code());
        assertTrue(!Files.exists(split.resolve("best.txt")), "no result before the last generation");
        CliRunner.Run resumed = run("search", "--out", split.toString(), "--resume");
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(Files.readString(straight.resolve("best.txt")), Files.readString(split.resolve("best.txt")));
        // a kill between the last state and best.txt (tools/crashtest.sh compress) leaves a search that is not done
        Files.delete(split.resolve("best.txt"));
        try (var cpu = new dev.flora.engine.cpu.CpuBackend()) {
            assertTrue(!new dev.flora.search.SearchRunner(dev.flora.search.SearchRunner.savedConfig(split), split, cpu,
                    System.out).isDone());
        }
        assertEquals(0, run("search", "--out", split.toString(), "--resume").code());
        assertEquals(Files.readString(straight.resolve("evaluated.csv")),
                Files.readString(split.resolve("evaluated.csv")));
    }

    @Test
    void theChosenFitnessReachesTheResultsAndAResumeWithAnotherIsRefused() throws Exception {
        Path out = dir.resolve("search-kl");
        CliRunner.Run r = run(searchArgs(out, "--fitness", "kl"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("fitness kl on 150 validation images"), r.out());
        java.util.List<String> csv = Files.readAllLines(out.resolve("evaluated.csv"));
        assertEquals("arch,flops,params,val_top1,fitness_kl,generation", csv.get(0));
        for (String row : csv.subList(1, csv.size())) {
            assertTrue(Double.parseDouble(row.split(",")[4]) <= 0, "minus a divergence: " + row);
        }
        java.util.List<String> best = Files.readAllLines(out.resolve("best.txt"));
        assertTrue(best.get(1).startsWith("fitness kl -") && best.get(1).contains(", val_top1 "), best.get(1));
        JsonNode state = new ObjectMapper().readTree(out.resolve("search_state.json").toFile());
        assertEquals("kl", state.get("fitness").asText());
        assertTrue(state.get("evaluated").get(0).has("top1") && state.get("evaluated").get(0).has("fitness"));

        // a config edited between runs must not mix two signals in one ranking
        Path half = dir.resolve("search-half");
        assertEquals(0, run(searchArgs(half, "--generations-this-run", "1")).code());
        Path config = half.resolve("config.yaml");
        String yaml = Files.readString(config);
        assertTrue(yaml.contains("fitness: loss\n"), "loss is the default: " + yaml);
        Files.writeString(config, yaml.replace("fitness: loss\n", "fitness: top1\n"));
        r = run("search", "--out", half.toString(), "--resume");
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.error().contains("started with fitness loss, not top1"), r.err());
    }

    @Test
    void exportedModelEvaluatesWithItsSearchedFlops() throws Exception {
        Path s = dir.resolve("search-for-export");
        assertEquals(0, run(searchArgs(s)).code());
        Path model = dir.resolve("exported.safetensors");
        CliRunner.Run e = run("export", "--supernet", supernet.toString(), "--search", s.toString(), "--out", model.toString());
        assertEquals(0, e.code(), e.err());
        CliRunner.Run ev = run("eval", "--model", model.toString(), "--data", "fmnist-subset", "--json");
        assertEquals(0, ev.code(), ev.err());
        JsonNode j = new ObjectMapper().readTree(ev.out().strip());
        String best = Files.readAllLines(s.resolve("best.txt")).get(0);
        String expectedFlops = Files.readAllLines(s.resolve("evaluated.csv")).stream()
                .filter(l -> l.startsWith(best + ",")).findFirst().orElseThrow().split(",")[1];
        assertEquals(Long.parseLong(expectedFlops), j.get("flops").asLong());
        assertTrue(j.get("flops").asLong() <= CostModelBound.half(), "within the default 50 % bound");
    }

    @Test
    void bf16ExportStoresTheRoundedWeightsInHalfTheBytesAndEvaluates() throws Exception {
        Path f32 = dir.resolve("uniform-f32.safetensors");
        Path bf16 = dir.resolve("uniform-bf16.safetensors");
        for (Path p : new Path[] {f32, bf16}) {
            CliRunner.Run e = run("export", "--supernet", supernet.toString(), "--uniform-at-flops", "0.5", "--out",
                    p.toString(), "--dtype", p == bf16 ? "bf16" : "f32");
            assertEquals(0, e.code(), e.err());
        }
        var a = dev.flora.engine.io.SafeTensors.open(f32);
        var b = dev.flora.engine.io.SafeTensors.open(bf16);
        assertEquals(a.metadata(), b.metadata());
        for (String name : a.entries().keySet()) {
            assertEquals("BF16", b.entry(name).dtype(), name);
            float[] exact = a.read(name);
            float[] rounded = b.read(name);
            for (int i = 0; i < exact.length; i++) {
                assertEquals(Float.intBitsToFloat(dev.flora.engine.io.WeightDtype.toBf16(exact[i]) << 16), rounded[i],
                        name + "[" + i + "]");
            }
        }
        assertTrue(Files.size(bf16) < 0.6 * Files.size(f32), Files.size(bf16) + " vs " + Files.size(f32));
        CliRunner.Run ev = run("eval", "--model", bf16.toString(), "--data", "fmnist-subset", "--json");
        assertEquals(0, ev.code(), ev.err());
        CliRunner.Run bad = run("export", "--supernet", supernet.toString(), "--uniform-at-flops", "0.5", "--out",
                dir.resolve("x.safetensors").toString(), "--dtype", "int4");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.error().contains("expected f32 or bf16"), bad.err());
    }

    @Test
    void unwritableOutputsAndBoundsNothingMeetsAreBadInputsNamedInOneLine() throws Exception {
        // issue 27 items 1 and 7: these exited 1 with a stack trace, or 0 with the smallest subnet
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        CliRunner.Run s = run(searchArgs(file));
        assertEquals(2, s.code(), s.err());
        assertTrue(s.error().contains("cannot create the directory " + file), s.err());
        Path folder = Files.createDirectories(dir.resolve("a-folder.safetensors"));
        CliRunner.Run e = run("export", "--supernet", supernet.toString(), "--uniform-at-flops", "0.5", "--out",
                folder.toString());
        assertEquals(2, e.code(), e.err());
        assertEquals("error: cannot write " + folder + ": it is a directory", e.error());
        for (String bound : new String[] {"0", "2", "1000"}) {
            CliRunner.Run u = run("export", "--supernet", supernet.toString(), "--uniform-at-flops", bound, "--out",
                    dir.resolve("u" + bound + ".safetensors").toString());
            assertEquals(2, u.code(), bound + ": " + u.err() + u.out());
            assertTrue(u.error().contains("--uniform-at-flops " + bound) && u.error().contains("the smallest has"),
                    u.err());
            assertTrue(!Files.exists(dir.resolve("u" + bound + ".safetensors")));
        }
    }

    @Test
    void aSearchOnDataWithoutValidationImagesIsRefused() throws Exception {
        // issue 27 item 8: nine images gave an empty split, every candidate 0.00 % and an arbitrary best.txt
        Path data = dev.flora.data.ImageFolderFixture.trainVal(dir.resolve("nine"), 3, 1, 2);
        Path out = dir.resolve("search-nine");
        CliRunner.Run r = run("search", "--supernet", supernet.toString(), "--data", data.toString(), "--out",
                out.toString(), "--population", "4", "--top-k", "2", "--mutations", "1", "--crossovers", "1",
                "--generations", "1");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("the validation split is empty"), r.err());
        assertTrue(!Files.exists(out));
    }

    /** Half the backbone's FLOPs. */
    static final class CostModelBound {
        static long half() throws Exception {
            var cfg = dev.flora.engine.io.ModelIO.inferConfig(SafeTensors.open(backbone),
                    java.util.OptionalInt.empty());
            return dev.flora.space.CostModel.denseMacs(cfg) / 2;
        }
    }

    @Test
    void compressRunsEveryStageAndSkipsThemWhenRunAgain() throws Exception {
        Path out = dir.resolve("compress");
        String[] args = {"compress", "--model", backbone.toString(), "--data", "fmnist-subset", "--out", out.toString(),
            "--compare-spos", "--supernet-epochs", "1", "--set", "supernet.train_limit=384", "--set",
            "supernet.batch_size=64", "--set", "search.population=6", "--set", "search.top_k=2", "--set",
            "search.mutations=2", "--set", "search.crossovers=2", "--set", "search.generations=2", "--set",
            "search.val_limit=120", "--allocations", "svd-energy,activation-aware", "--calibration-images", "64"};
        CliRunner.Run r = run(args);
        assertEquals(0, r.code(), r.err() + r.out());
        for (String f : new String[] {"flora.safetensors", "uniform.safetensors", "pareto.csv", "pareto.png",
            "results.json", "summary.md", "config.yaml", "allocation-svd-energy.safetensors",
            "allocation-activation-aware.safetensors"}) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        JsonNode res = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertEquals(3, res.get("models").size());
        long denseFlops = res.get("models").get(0).get("flops").asLong();
        long floraFlops = res.get("models").get(1).get("flops").asLong();
        long uniformFlops = res.get("models").get(2).get("flops").asLong();
        assertTrue(floraFlops <= denseFlops / 2 + 1 && uniformFlops <= floraFlops, floraFlops + " " + uniformFlops);
        assertTrue(Files.readString(out.resolve("pareto.csv")).contains("spos,searched,"));
        assertTrue(Files.readString(out.resolve("summary.md")).contains("| SPOS |"));
        // every difference of two accuracies comes with its paired standard error and interval
        String summary = Files.readString(out.resolve("summary.md"));
        assertTrue(summary.matches("(?s).*FLORA vs dense: [+-]\\d+\\.\\d\\d points \\(SE \\d+\\.\\d\\d, 95 % CI .*"), summary);
        assertTrue(summary.matches("(?s).*FLORA vs uniform rank at matched FLOPs: [+-]\\d+\\.\\d\\d points \\(SE .*"), summary);
        assertTrue(r.out().contains("FLORA vs uniform rank at matched FLOPs: ") && r.out().contains("95 % CI"), r.out());
        JsonNode vs = res.get("flora_vs_uniform");
        assertTrue(vs.get("standard_error").asDouble() >= 0 && vs.get("ci95_low").asDouble() <= vs.get("points")
                .asDouble(), vs.toString());
        assertEquals(res.get("models").get(1).get("testTop1").asDouble() - res.get("models").get(2).get("testTop1")
                .asDouble(), vs.get("points").asDouble(), 1e-9);
        assertTrue(res.get("models").get(1).get("testCorrect") == null, "per-image outcomes stay out of results.json");
        // the allocation baselines: at no more than the searched subnet's FLOPs, each against FLORA with its error bar
        assertEquals(2, res.get("allocations").size());
        for (JsonNode a : res.get("allocations")) {
            assertTrue(a.get("flops").asLong() <= floraFlops && a.get("flops").asLong() > floraFlops / 2, a.toString());
            JsonNode d = res.get("flora_vs_allocations").get(a.get("name").asText());
            assertEquals(res.get("models").get(1).get("testTop1").asDouble() - a.get("testTop1").asDouble(),
                    d.get("points").asDouble(), 1e-9);
        }
        assertTrue(summary.contains("FLORA vs activation-aware allocation at matched FLOPs (no supernet, no "
                + "fine-tuning): "), summary);
        assertTrue(r.out().contains("FLORA vs svd-energy allocation at matched FLOPs: "), r.out());
        String before = Files.readString(out.resolve("results.json"));
        CliRunner.Run again = run(args);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("supernet-lrat: done") && again.out().contains("search-spos: done"), again.out());
        JsonNode a = new ObjectMapper().readTree(before);
        JsonNode b = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertEquals(a.get("models"), b.get("models"), "a rerun reproduces the results");
        assertEquals(a.get("allocations"), b.get("allocations"), "and reads the allocations back");
    }

    @Test
    void ablationComparesFourSupernetsTheUniformCurveAndTheAllocations() throws Exception {
        Path out = dir.resolve("ablation");
        CliRunner.Run r = run("ablation", "--model", backbone.toString(), "--data", "fmnist-subset", "--out", out.toString(),
                "--targets", "0.6,0.75", "--set", "filter.proxy_fraction=0.05", "--set", "filter.score_fraction=0.2",
                "--set", "filter.top_k=8", "--set", "supernet.epochs=1", "--set", "supernet.train_limit=384",
                "--set", "search.population=6", "--set", "search.generations=2", "--set", "search.mutations=2",
                "--set", "search.crossovers=2", "--set", "search.top_k=2", "--set", "search.val_limit=100",
                "--seeds", "2", "--allocation-finetune-epochs", "1");
        assertEquals(0, r.code(), r.err() + r.out());
        // the second seed trains its own supernets and searches, with moved seeds
        assertTrue(Files.readString(out.resolve("supernet-lrat-seed1").resolve("config.yaml")).contains("seed: 1\n"));
        assertTrue(Files.exists(out.resolve("search-lrat-75-seed1").resolve("best.txt")));
        // each allocation is fine-tuned once, whatever the seeds, and its folder keeps the result
        assertTrue(Files.exists(out.resolve("finetune-activation-aware-75").resolve(Ablation.FINETUNED_MODEL)));
        assertTrue(!Files.exists(out.resolve("finetune-activation-aware-75-seed1")));
        String seeds = Files.readString(out.resolve(Ablation.SEEDS_CSV));
        java.awt.image.BufferedImage plot = javax.imageio.ImageIO.read(out.resolve(Ablation.SEEDS_PNG).toFile());
        assertEquals(900, plot.getWidth(), "the seeds' plot is a PNG");
        assertTrue(seeds.startsWith("kind,name,target,seeds,mean,std,ci95_half_width,values\n"), seeds);
        assertTrue(seeds.matches("(?s).*\nsubnet,lrat,0\\.75,2,\\d+\\.\\d{3},\\d+\\.\\d{3},.*"), seeds);
        assertTrue(seeds.matches("(?s).*\ndifference,activation-aware vs lrat,0\\.75,2,.*"), seeds);
        assertTrue(r.out().matches("(?s).*over 2 seeds, target 0\\.75: lrat vs uniform-matched: [+-]\\d+\\.\\d\\d ± .*"),
                r.out());
        String csv = Files.readString(out.resolve("ablation.csv"));
        for (String v : new String[] {"spos,", "spos-filter,", "lrat,", "lrat-filter,", "uniform-grid,",
            "uniform-matched,", "dense,", "svd-energy,", "activation-aware,", "greedy,", "global-threshold,",
            "activation-aware+ft,", "greedy+ft,"}) {
            assertTrue(csv.contains("\n" + v), v + " in\n" + csv);
        }
        assertTrue(csv.startsWith("variant,target,arch,flops,flops_pct,val_top1,test_top1,test_top1_se\n"), csv);
        // every comparison the ablation makes comes with its paired error bar
        for (String pair : new String[] {"lrat vs uniform-matched: ", "spos vs lrat: ", "lrat-filter vs lrat: ",
            "activation-aware vs lrat: ", "greedy vs lrat: ", "activation-aware\\+ft vs lrat: "}) {
            assertTrue(r.out().matches("(?s).*target 0\\.75: " + pair + "[+-]\\d+\\.\\d\\d points \\(SE .*"),
                    pair + " in\n" + r.out());
        }
        JsonNode diffs = new ObjectMapper().readTree(out.resolve("ablation.json").toFile()).get("paired_differences");
        assertTrue(diffs.size() >= 4 && diffs.get(0).has("standardError"), diffs.toString());
        assertTrue(Files.size(out.resolve("fronts.png")) > 1000);
        assertTrue(Files.size(out.resolve("uniform_vs_searched.png")) > 1000);
        // the filtered space keeps at most k + 1 tuples per block
        JsonNode space = new ObjectMapper().readTree(out.resolve("filter").resolve("search_space.json").toFile());
        for (JsonNode block : space.get("blocks")) {
            assertTrue(block.size() <= 9, "k + dense");
        }
    }

    @Test
    void ablationTrainsOnlyTheSupernetsNamedAndComparesTheAllocationsOfALoritaBackbone() throws Exception {
        Path out = dir.resolve("ablation-lrat");
        String[] args = {"ablation", "--model", backbone.toString(), "--data", "fmnist-subset", "--out",
            out.toString(), "--targets", "0.75", "--supernets", "lrat",
            "--allocations", "svd-energy,global-threshold", "--set", "supernet.epochs=1",
            "--set", "supernet.train_limit=256", "--set", "search.population=4", "--set", "search.generations=1",
            "--set", "search.mutations=2", "--set", "search.crossovers=2", "--set", "search.top_k=2",
            "--set", "search.val_limit=100"};
        CliRunner.Run first = run(args);
        assertEquals(0, first.code(), first.err() + first.out());
        assertTrue(!Files.exists(out.resolve("filter")), "no filtering without a -filter supernet");
        assertTrue(!Files.exists(out.resolve("supernet-spos")) && Files.exists(out.resolve("supernet-lrat")));
        Map<String, Double> before = testTop1(out.resolve("ablation.csv"));
        assertTrue(!before.containsKey("spos") && before.containsKey("lrat") && !before.containsKey("lorita-svd-energy"),
                before.toString());
        // a finished seed needs its supernet no more (a fresh machine has only the small searched.json), and a
        // finished run gains the LoRITa rows when resumed with a LoRITa backbone
        deleteTree(out.resolve("supernet-lrat"));
        deleteTree(out.resolve("search-lrat-75"));
        String[] withLorita = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
                java.util.stream.Stream.of("--lorita-model", backbone.toString())).toArray(String[]::new);
        CliRunner.Run r = run(withLorita);
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(!Files.exists(out.resolve("supernet-lrat")), "the supernet was not trained again\n" + r.out());
        assertTrue(r.out().contains("searched.json: done"), r.out());
        assertTrue(r.out().contains("has no flora.lorita in its metadata"), r.out());
        Map<String, Double> top1 = testTop1(out.resolve("ablation.csv"));
        assertEquals(before.get("lrat"), top1.get("lrat"), "the searched subnet's figures, read back");
        assertEquals(before.get("uniform-matched"), top1.get("uniform-matched"));
        // the compute of the seed's stages survives them: kept in searched.json, reported in ablation.json
        JsonNode seconds = new ObjectMapper().readTree(out.resolve("ablation.json").toFile()).get("stage_seconds");
        assertTrue(seconds.get("supernet-lrat").asDouble() > 0 && seconds.get("search-lrat-75").asDouble() > 0,
                seconds.toString());
        assertTrue(r.out().matches("(?s).*target 0\\.75: lrat vs uniform-matched: [+-]\\d+\\.\\d\\d points \\(SE .*"),
                r.out());
        // the backbone stands in for a LoRITa one here: the same weights give the same allocations
        for (String m : new String[] {"svd-energy", "global-threshold"}) {
            assertEquals(top1.get(m), top1.get("lorita-" + m), m);
            assertTrue(r.out().matches("(?s).*target 0\\.75: lorita-" + m
                    + " vs lrat: [+-]\\d+\\.\\d\\d points \\(SE .*"), r.out());
        }
        Path other = dir.resolve("other-arch.safetensors");
        try (CpuBackend cpu = new CpuBackend()) {
            VisionTransformer small = new VisionTransformer(cpu, new ViTConfig(28, 7, 1, 32, 2, 2, 2.0, 10,
                    new double[] {0.5}, new double[] {0.5}));
            ViTInitializer.initialize(small, 1);
            ModelIO.save(small, other, Map.of());
        }
        CliRunner.Run bad = run("ablation", "--model", backbone.toString(), "--data", "fmnist-subset", "--out",
                dir.resolve("ablation-bad").toString(), "--supernets", "lrat", "--lorita-model", other.toString(),
                "--set", "supernet.epochs=1", "--set", "supernet.train_limit=64");
        assertEquals(2, bad.code(), bad.out());
        assertTrue(bad.error().contains("not the dense backbone's"), bad.err());
        for (String spec : new String[] {"spos", "lrat,sops"}) {
            bad = run("ablation", "--data", "fmnist-subset", "--out", dir.resolve("ablation-bad2").toString(),
                    "--supernets", spec);
            assertEquals(2, bad.code(), bad.out());
            assertTrue(bad.error().contains("supernets"), bad.err());
        }
        assertEquals(AblationConfig.SUPERNET_NAMES, String.join(",", Ablation.VARIANTS.stream()
                .map(Ablation.Variant::name).toList()), "the config's list is the ablation's variants");
    }

    /** Test top-1 per row name of an ablation.csv (the last row of a name where there are several). */
    private static Map<String, Double> testTop1(Path csv) throws Exception {
        Map<String, Double> top1 = new java.util.HashMap<>();
        for (String line : Files.readString(csv).split("\n")) {
            String[] f = line.split(",");
            if (!f[0].equals("variant")) {
                top1.put(f[0], Double.parseDouble(f[6]));
            }
        }
        return top1;
    }

    private static void deleteTree(Path p) throws Exception {
        try (var files = Files.walk(p)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }

    @Test
    void badInputsExitTwoWithOneLine() throws Exception {
        CliRunner.Run r = run(searchArgs(dir.resolve("impossible"), "--min-flops", "0.01", "--max-flops", "0.02"));
        assertEquals(2, r.code());
        assertTrue(r.error().contains("admit no architecture"), r.err());
        r = run("supernet", "--model", backbone.toString(), "--data", "fmnist-subset", "--out",
                dir.resolve("bad-ratio").toString(), "--ratios", "0.5,1.5");
        assertEquals(2, r.code());
        assertTrue(r.error().contains("1.5") && r.error().contains("(0, 1]"), r.err());
        Path notVit = dir.resolve("not-a-vit.safetensors");
        SafeTensors.write(notVit, Map.of("encoder.layer.0.weight", new TensorData(new int[] {2, 2}, new float[4])),
                Map.of());
        r = run("supernet", "--model", notVit.toString(), "--data", "fmnist-subset", "--out",
                dir.resolve("bad-model").toString());
        assertEquals(2, r.code());
        assertTrue(r.error().contains("not a ViT checkpoint"), r.err());
        assertTrue(!Files.exists(dir.resolve("bad-model")), "no partial output");
        r = run("search", "--supernet", backbone.toString(), "--data", "fmnist-subset", "--out",
                dir.resolve("dense-as-supernet").toString());
        assertEquals(2, r.code());
        assertTrue(r.error().contains("not a supernet"), r.err());
        r = run("export", "--supernet", supernet.toString(), "--arch", "9:9:9|0:0:0", "--out",
                dir.resolve("x.safetensors").toString());
        assertEquals(2, r.code());
        assertTrue(r.error().contains("not in the supernet's search space"), r.err());
    }

    /** The test supernet's search space (the default one over the backbone). */
    private static SearchSpace space() throws Exception {
        return SearchSpace.defaults(dev.flora.engine.io.ModelIO.inferConfig(SafeTensors.open(backbone),
                java.util.OptionalInt.empty()), false);
    }

    /** A stub latency table (numbers chosen, not measured) of the test space at batch 1, changed by {@code change}. */
    private static Path stubTable(String name, UnaryOperator<LatencyTable> change) throws Exception {
        try (CpuBackend cpu = new CpuBackend()) {
            Path f = dir.resolve(name);
            change.apply(StubTables.of(space(), Machine.of(cpu), 1)).write(f);
            return f;
        }
    }

    private static LatencyTable on(LatencyTable t, Machine m) {
        return new LatencyTable(t.format(), m, t.model(), t.batch(), t.tokens(), t.timing(), t.dense(), t.overheadMs(),
                t.modules(), t.parts(), t.calibration(), t.check());
    }

    /** Halfway between the stub table's cheapest uniform subnet and the dense model: a budget that binds. */
    private static double budget(Path table) throws Exception {
        SearchSpace space = space();
        LatencyPredictor p = new LatencyPredictor(LatencyTable.read(table), space, "t");
        return (p.millis(Candidate.uniform(space.depth(), space.targets().size(), 0)) + p.millis(Map.of())) / 2;
    }

    @Test
    void searchUnderALatencyBudgetKeepsEveryCandidateWithinIt() throws Exception {
        Path table = stubTable("stub.json", t -> t);
        double budget = budget(table);
        Path out = dir.resolve("search-latency");
        CliRunner.Run r = run(searchArgs(out, "--device", "cpu", "--min-flops", "0", "--max-flops", "1",
                "--latency-ms", Double.toString(budget), "--latency-table", table.toString()));
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("ms predicted (budget"), r.out());
        List<String> rows = Files.readAllLines(out.resolve("evaluated.csv"));
        assertEquals("arch,flops,params,val_top1,fitness_loss,generation,predicted_ms", rows.get(0));
        for (String row : rows.subList(1, rows.size())) {
            String[] f = row.split(",");
            assertTrue(Double.parseDouble(f[6]) <= budget + 1e-6, row + " over " + budget);
        }
    }

    @Test
    void latencyBadInputsExitTwoWithOneLine() throws Exception {
        String budget = Double.toString(budget(stubTable("ok.json", t -> t)));
        Map<String, Path> tables = new LinkedHashMap<>();
        tables.put("another machine or backend (CPU 'Other CPU'", stubTable("other-cpu.json", t -> on(t,
                new Machine("Other CPU", t.machine().cores(), t.machine().arch(), t.machine().backend(),
                        t.machine().threads()))));
        tables.put("another machine or backend (backend cuda-emulated, not cpu/fp32-inference)", stubTable("other-backend.json",
                t -> on(t, new Machine(t.machine().cpu(), t.machine().cores(), t.machine().arch(), "cuda-emulated",
                        t.machine().threads()))));
        tables.put(" threads, not ", stubTable("other-threads.json", t -> on(t, new Machine(t.machine().cpu(),
                t.machine().cores(), t.machine().arch(), t.machine().backend(), t.machine().threads() + 7))));
        tables.put("the latency table has no module blocks.1.mlp.fc2", stubTable("no-module.json", t -> {
            Map<String, LatencyTable.Module> m = new LinkedHashMap<>(t.modules());
            m.remove("blocks.1.mlp.fc2");
            return new LatencyTable(t.format(), t.machine(), t.model(), t.batch(), t.tokens(), t.timing(), t.dense(),
                    t.overheadMs(), m, t.parts(), t.calibration(), t.check());
        }));
        tables.put("the latency table has no time for blocks.0.mlp.fc1 at rank 8", stubTable("no-rank.json", t -> {
            Map<String, LatencyTable.Module> m = new LinkedHashMap<>(t.modules());
            LatencyTable.Module fc1 = m.get("blocks.0.mlp.fc1");
            TreeMap<Integer, Measurement> ranks = new TreeMap<>(fc1.ranks());
            ranks.remove(8);
            m.put("blocks.0.mlp.fc1", new LatencyTable.Module(fc1.in(), fc1.out(), fc1.rows(), fc1.dense(), ranks));
            return new LatencyTable(t.format(), t.machine(), t.model(), t.batch(), t.tokens(), t.timing(), t.dense(),
                    t.overheadMs(), m, t.parts(), t.calibration(), t.check());
        }));
        for (var e : tables.entrySet()) {
            Path out = dir.resolve("bad-" + e.getValue().getFileName());
            CliRunner.Run r = run(searchArgs(out, "--device", "cpu", "--latency-ms", budget, "--latency-table",
                    e.getValue().toString()));
            assertEquals(2, r.code(), r.err());
            assertTrue(r.error().startsWith("error: " + e.getValue()) && r.error().contains(e.getKey()), r.err());
            assertTrue(!Files.exists(out), "no partial output");
        }
        Path ok = dir.resolve("ok.json");
        CliRunner.Run r = run(searchArgs(dir.resolve("bad-budget"), "--device", "cpu", "--latency-ms", "0.01",
                "--latency-table", ok.toString()));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("latency budget 0.010 ms at batch 1 admits no architecture"), r.err());
        r = run(searchArgs(dir.resolve("bad-no-table"), "--latency-ms", "3"));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("latency_ms needs latency_table"), r.err());
        r = run("compress", "--model", backbone.toString(), "--data", "fmnist-subset", "--device", "cpu", "--out",
                dir.resolve("bad-compress").toString(), "--latency-ms", budget, "--latency-table",
                tables.values().iterator().next().toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("another machine or backend"), r.err());
        r = run("compress", "--model", backbone.toString(), "--data", "fmnist-subset", "--device", "cpu", "--out",
                dir.resolve("bad-compress-budget").toString(), "--latency-ms", "0.01", "--latency-table",
                ok.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.error().contains("admits no architecture") && !r.out().contains("supernet-lrat"), r.err());
    }

    @Test
    void compressUnderALatencyBudgetReportsPredictedAndMeasuredLatency() throws Exception {
        Path table = stubTable("compress.json", t -> t);
        Path out = dir.resolve("compress-latency");
        CliRunner.Run r = run("compress", "--model", backbone.toString(), "--data", "fmnist-subset", "--device", "cpu",
                "--out", out.toString(), "--supernet-epochs", "1", "--min-flops", "0", "--max-flops", "1",
                "--latency-ms", Double.toString(budget(table)), "--latency-table", table.toString(),
                "--set", "supernet.loop.train_limit=256", "--set", "supernet.loop.batch_size=64",
                "--set", "search.evolution.population=6", "--set", "search.evolution.top_k=2",
                "--set", "search.evolution.mutations=2", "--set", "search.evolution.crossovers=2",
                "--set", "search.evolution.generations=2", "--set", "search.val_limit=100");
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("latency at batch 1: FLORA (searched, LRAT supernet) predicted"), r.out());
        String summary = Files.readString(out.resolve("summary.md"));
        assertTrue(summary.contains("## Latency at batch 1") && summary.contains("| uniform rank at matched latency |"),
                summary);
        JsonNode lat = new ObjectMapper().readTree(out.resolve("results.json").toFile()).get("latency");
        assertEquals(3, lat.get("models").size());
        double budget = lat.get("budget_ms").asDouble();
        assertTrue(lat.get("models").get(1).get("predicted_ms").asDouble() <= budget, lat.toString());
        assertTrue(lat.get("models").get(2).get("predicted_ms").asDouble()
                <= lat.get("models").get(1).get("predicted_ms").asDouble() + 1e-9, "uniform at matched latency");
        assertTrue(lat.get("models").get(0).get("measured_ms").asDouble() > 0);
    }

    @Test
    void aMeasuredTableIsAcceptedBySearch() throws Exception {
        Path table = dir.resolve("measured.json");
        CliRunner.Run r = run("latency-table", "--model", backbone.toString(), "--batch", "2", "--device", "cpu",
                "--module-seconds", "0.002", "--model-seconds", "0.01", "--warmup-seconds", "0", "--calibration", "1",
                "--check", "2",
                "--out", table.toString());
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("predictor on 2 random subnets at batch 2: median |error|"), r.out());
        LatencyTable t = LatencyTable.read(table);
        assertEquals(2, t.check().points().size());
        double generous = 10 * t.dense().ms() + 10 * t.overheadMs();
        CliRunner.Run s = run(searchArgs(dir.resolve("search-measured"), "--device", "cpu", "--latency-ms", Double.toString(Math.max(generous, 1)), "--latency-table", table.toString()));
        assertEquals(0, s.code(), s.err() + s.out());
        CliRunner.Run e = run("eval", "--model", backbone.toString(), "--data", "fmnist-subset", "--device", "cpu",
                "--latency-table", table.toString(), "--json");
        assertEquals(0, e.code(), e.err());
        JsonNode j = new ObjectMapper().readTree(e.out().strip());
        assertTrue(j.get("latency_ms").asDouble() > 0 && j.get("latency_batch").asInt() == 2, j.toString());
        // other models timed in the same loop, for latencies that compare
        CliRunner.Run w = run("eval", "--model", backbone.toString(), "--data", "fmnist-subset", "--device", "cpu",
                "--latency-table", table.toString(), "--time-with", backbone.toString(), "--time-with",
                backbone.toString(), "--json");
        assertEquals(0, w.code(), w.err());
        JsonNode with = new ObjectMapper().readTree(w.out().strip()).get("latency_with");
        assertEquals(2, with.size(), w.out());
        assertTrue(with.get(1).get("latency_ms").asDouble() > 0 && with.get(1).get("model").asText()
                .equals(backbone.toString()), with.toString());
        CliRunner.Run noTable = run("eval", "--model", backbone.toString(), "--data", "fmnist-subset", "--time-with",
                backbone.toString());
        assertEquals(2, noTable.code());
        assertTrue(noTable.error().contains("--time-with needs --latency-table"), noTable.err());
    }
}
