package dev.flora.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.cli.CliRunner;
import dev.flora.config.FitnessSignal;
import dev.flora.config.Method;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.data.Split;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.io.FormatException;
import dev.flora.models.ModelInput;
import dev.flora.models.ModelPreprocessing;
import dev.flora.models.ModelSource;
import dev.flora.space.SearchSpace;
import dev.flora.supernet.Supernet;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FitnessAgreementTest {
    private static Supernet supernet;
    private static ImageSource val;
    private static ImageSource test;
    @TempDir
    Path dir;

    @BeforeAll
    static void supernet() throws Exception {
        Path file = Path.of(FitnessAgreementTest.class.getResource("/golden/timm_vit_tiny_fmnist.safetensors").toURI());
        ModelSource.LoadedModel loaded = ModelSource.open(file.toString(), new CpuBackend(), OptionalInt.empty());
        ModelInput input = ModelInput.of(loaded, ModelPreprocessing.Overrides.none(), s -> { });
        supernet = Supernet.fromDense(loaded.model(), input, SearchSpace.defaults(loaded.model().config(), false),
                Method.LRAT);
        val = Datasets.first(Datasets.load("fmnist-subset", Split.VAL), 64);
        test = Datasets.first(Datasets.load("fmnist-subset", Split.TEST), 64);
    }

    @Test
    void kendallTauBCountsConcordantPairsAndLeavesTiesOut() {
        assertEquals(1, FitnessAgreement.kendallTauB(new double[] {1, 2, 3, 4}, new double[] {10, 20, 30, 40}), 1e-12);
        assertEquals(-1, FitnessAgreement.kendallTauB(new double[] {1, 2, 3}, new double[] {3, 2, 1}), 1e-12);
        // pairs: (1,2) +, (1,3) +, (2,3) -: (2 - 1) / 3
        assertEquals(1.0 / 3, FitnessAgreement.kendallTauB(new double[] {1, 2, 3}, new double[] {1, 3, 2}), 1e-12);
        // a tie in y: pairs untied in x 3, in y 2; concordant 2, discordant 0 -> 2 / sqrt(6)
        assertEquals(2 / Math.sqrt(6), FitnessAgreement.kendallTauB(new double[] {1, 2, 3}, new double[] {1, 2, 2}),
                1e-12);
        assertTrue(Double.isNaN(FitnessAgreement.kendallTauB(new double[] {1, 1}, new double[] {1, 2})));
        assertThrows(IllegalArgumentException.class, () -> FitnessAgreement.kendallTauB(new double[] {1},
                new double[] {1}));
    }

    @Test
    void theBootstrapIntervalOfATauDifferenceHoldsTheDifferenceAndIsZeroForOneSignalAgainstItself() {
        List<FitnessAgreement.Row> rows = new java.util.ArrayList<>();
        java.util.Random rng = new java.util.Random(3);
        for (int i = 0; i < 40; i++) {
            double test = 85 + 5 * rng.nextDouble();
            // loss follows test top-1 closely, top-1 on validation loosely
            rows.add(new FitnessAgreement.Row("a" + i, i, new SubnetFitness.Signals(test + 3 * rng.nextGaussian(),
                    1 - test / 100 + 0.001 * rng.nextGaussian(), 0.1), test));
        }
        FitnessAgreement.Result r = FitnessAgreement.result(rows);
        double d = r.tau().get(FitnessSignal.LOSS) - r.tau().get(FitnessSignal.TOP1);
        double[] ci = r.tauDifferenceInterval(FitnessSignal.LOSS, FitnessSignal.TOP1, 500, 1);
        assertTrue(ci[0] <= d && d <= ci[1] && ci[0] > 0, d + " in " + ci[0] + ".." + ci[1]);
        double[] self = r.tauDifferenceInterval(FitnessSignal.LOSS, FitnessSignal.LOSS, 100, 1);
        assertEquals(0, self[0], 1e-12);
        assertEquals(0, self[1], 1e-12);
        assertEquals(FitnessSignal.LOSS, r.best());
    }

    @Test
    void everySignalIsScoredPerSubnetAndARerunContinuesAfterTheRowsThere() throws Exception {
        Path csv = dir.resolve("sub/agreement.csv");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        FitnessAgreement.Result r = FitnessAgreement.run(supernet, val, test, 32, 4, 7, csv, quiet);
        assertEquals(4, r.rows().size());
        List<String> lines = Files.readAllLines(csv);
        assertEquals(FitnessAgreement.HEADER, lines.get(0));
        assertEquals(5, lines.size());
        for (FitnessAgreement.Row row : r.rows()) {
            assertTrue(row.val().kl() > 0 && row.val().loss() > 0, row.toString());
        }
        for (FitnessSignal s : FitnessSignal.values()) {
            double tau = r.tau().get(s);
            assertTrue(Double.isNaN(tau) || Math.abs(tau) <= 1, s + ": " + tau);
        }
        // six subnets with the same seed: the first four are read back, two more are scored
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        FitnessAgreement.Result more = FitnessAgreement.run(supernet, val, test, 32, 6, 7, csv, new PrintStream(log));
        assertTrue(log.toString().contains("4 of 6 subnets already scored"), log.toString());
        assertEquals(r.rows(), more.rows().subList(0, 4));
        assertEquals(7, Files.readAllLines(csv).size());
        // another seed draws other subnets: the file is not mixed with them
        FormatException e = assertThrows(FormatException.class,
                () -> FitnessAgreement.run(supernet, val, test, 32, 6, 8, csv, quiet));
        assertTrue(e.getMessage().contains("holds subnets of other settings"), e.getMessage());
    }

    @Test
    void theCommandPrintsEachSignalsTauAndRefusesTooFewSubnets() throws Exception {
        Path file = dir.resolve("supernet.safetensors");
        supernet.save(file);
        CliRunner.Run run = CliRunner.run("fitness-check", "--supernet", file.toString(), "--data", "fmnist-subset",
                "--subnets", "3", "--val-limit", "32", "--out", dir.resolve("f.csv").toString());
        assertEquals(0, run.code(), run.err());
        for (FitnessSignal s : FitnessSignal.values()) {
            assertTrue(run.out().contains("Kendall tau of fitness " + s.label() + " with test top-1"), run.out());
        }
        assertTrue(run.out().contains("ranks best: "), run.out());
        assertTrue(run.out().contains("tau(loss) - tau(top1): "), run.out());
        CliRunner.Run bad = CliRunner.run("fitness-check", "--supernet", file.toString(), "--subnets", "1");
        assertEquals(2, bad.code());
        assertTrue(bad.error().contains("--subnets must be at least 2"), bad.err());
    }
}
