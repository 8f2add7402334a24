package dev.flora.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.config.FitnessSignal;
import dev.flora.config.Method;
import dev.flora.data.Datasets;
import dev.flora.data.ImageSource;
import dev.flora.data.Split;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.models.ModelInput;
import dev.flora.models.ModelPreprocessing;
import dev.flora.models.ModelSource;
import dev.flora.space.Candidate;
import dev.flora.space.SearchSpace;
import dev.flora.supernet.Supernet;
import dev.flora.train.Evaluator;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The three fitness signals on an SVD supernet of the tiny test ViT, over 64 validation images. */
class SubnetFitnessTest {
    private static Supernet supernet;
    private static ImageSource val;

    @BeforeAll
    static void supernet() throws Exception {
        Path file = Path.of(SubnetFitnessTest.class.getResource("/golden/timm_vit_tiny_fmnist.safetensors").toURI());
        ModelSource.LoadedModel loaded = ModelSource.open(file.toString(), new CpuBackend(), OptionalInt.empty());
        ModelInput input = ModelInput.of(loaded, ModelPreprocessing.Overrides.none(), s -> { });
        supernet = Supernet.fromDense(loaded.model(), input, SearchSpace.defaults(loaded.model().config(), false),
                Method.LRAT);
        val = Datasets.first(Datasets.load("fmnist-subset", Split.VAL), 64);
    }

    /** A subnet between the extremes: every block at its middle allowed tuple. */
    private static Candidate middle() {
        Candidate c = supernet.largest();
        for (int b = 0; b < c.blocks(); b++) {
            var allowed = supernet.space().allowed(b);
            c = c.withTuple(b, allowed.get(allowed.size() / 2));
        }
        return c;
    }

    @Test
    void klOfTheTeacherIsZeroAndOfEveryOtherSubnetPositive() {
        // batch 24 does not divide 64: the last, short batch must line up with the teacher's images too
        SubnetFitness kl = new SubnetFitness(supernet, val, 24, FitnessSignal.KL);
        assertEquals(0.0, kl.score(supernet.largest()).fitness(), 1e-12);
        for (Candidate c : new Candidate[] {supernet.smallest(), middle()}) {
            double f = kl.score(c).fitness();
            assertTrue(f < 0, c + ": fitness " + f + " is minus a KL divergence, which is positive off the teacher");
        }
        assertTrue(kl.score(supernet.smallest()).fitness() < kl.score(middle()).fitness(),
                "the smallest subnet is further from the teacher than the middle one");
        // the teacher was computed once: scoring it again after other subnets still gives 0
        assertEquals(0.0, kl.score(supernet.largest()).fitness(), 1e-12);
    }

    @Test
    void lossFitnessIsMinusTheValidationLossAndRanksTheLowerLossHigher() {
        SubnetFitness loss = new SubnetFitness(supernet, val, 32, FitnessSignal.LOSS);
        Candidate[] subnets = {supernet.largest(), supernet.smallest(), middle()};
        double[] losses = new double[subnets.length];
        for (int i = 0; i < subnets.length; i++) {
            supernet.apply(subnets[i]);
            Evaluator.Result r = Evaluator.evaluate(supernet.model(), supernet.input(), val, 32);
            losses[i] = r.loss();
            EvolutionarySearch.Score s = loss.score(subnets[i]);
            assertEquals(-r.loss(), s.fitness(), 1e-9);
            assertEquals(100 * r.top1(), s.top1(), 1e-9, "top-1 is kept beside the fitness");
        }
        assertNotEquals(losses[0], losses[1]);
        for (int i = 0; i < subnets.length; i++) {
            for (int j = 0; j < subnets.length; j++) {
                if (losses[i] < losses[j]) {
                    assertTrue(loss.score(subnets[i]).fitness() > loss.score(subnets[j]).fitness());
                }
            }
        }
    }

    @Test
    void top1FitnessIsTheValidationTop1() {
        Candidate c = middle();
        supernet.apply(c);
        double top1 = 100 * Evaluator.evaluate(supernet.model(), supernet.input(), val, 32).top1();
        EvolutionarySearch.Score s = new SubnetFitness(supernet, val, 32, FitnessSignal.TOP1).score(c);
        assertEquals(top1, s.fitness(), 1e-9);
        assertEquals(top1, s.top1(), 1e-9);
    }
}
