package dev.flora.supernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.config.Method;
import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.io.ModelIO;
import dev.flora.models.ModelInput;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import dev.flora.space.Candidate;
import dev.flora.space.CostModel;
import dev.flora.space.SearchSpace;
import dev.flora.supernet.Sampler;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Supernets built by SVD from a real (PyTorch-trained) backbone, and the subnets exported from them. */
class SupernetTest {
    private final Backend backend = new CpuBackend();

    @TempDir
    Path dir;

    static Path backbonePath() throws Exception {
        return Path.of(SupernetTest.class.getResource("/golden/timm_vit_tiny_fmnist.safetensors").toURI());
    }

    private VisionTransformer backbone() throws Exception {
        return ModelIO.load(backbonePath(), backend, OptionalInt.empty());
    }

    private Tensor images(int batch, int size, long seed) {
        Tensor x = backend.allocate(batch * size);
        float[] v = new float[batch * size];
        Random r = new Random(seed);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        backend.upload(v, 0, x);
        return x;
    }

    private static double maxRelDiff(float[] a, float[] b) {
        double err = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            err = Math.max(err, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return err / scale;
    }

    @Test
    void fullRankReproducesTheDenseLogits() throws Exception {
        VisionTransformer dense = backbone();
        Tensor x = images(8, dense.config().imageSize(), 1);
        float[] expected = backend.download(dense.forward(x, 8)).clone();
        for (Method m : Method.values()) {
            Supernet s = Supernet.fromDense(dense, ModelInput.atModelSize(dense.config()), SearchSpace.defaults(dense.config(), true), m);
            s.apply(Candidate.uniform(dense.config().depth(), 4, 6));
            float[] got = backend.download(s.model().forward(x, 8));
            assertTrue(maxRelDiff(got, expected) < 1e-4, m + ": full rank differs from dense by "
                    + maxRelDiff(got, expected));
        }
    }

    @Test
    void exportedSubnetComputesWhatTheSupernetSubnetComputes() throws Exception {
        VisionTransformer dense = backbone();
        SearchSpace space = SearchSpace.defaults(dense.config(), false);
        CostModel cost = new CostModel(space);
        Tensor x = images(4, dense.config().imageSize(), 2);
        Random rng = new Random(9);
        for (Method m : Method.values()) {
            Supernet s = Supernet.fromDense(dense, ModelInput.atModelSize(dense.config()), space, m);
            for (int trial = 0; trial < 3; trial++) {
                Candidate c = new Sampler(space, Sampler.Kind.UNIFORM).sample(rng);
                s.apply(c);
                float[] inSupernet = backend.download(s.model().forward(x, 4)).clone();
                Path file = dir.resolve(m + "-" + trial + ".safetensors");
                ModelIO.save(SubnetExport.export(s, space.ranks(c)), file, java.util.Map.of());
                VisionTransformer exported = ModelIO.load(file, backend, OptionalInt.empty());
                float[] standalone = backend.download(exported.forward(x, 4));
                assertTrue(maxRelDiff(standalone, inSupernet) < 1e-5, m + " " + c);
                assertEquals(cost.macs(c), exported.macsPerImage(), "FLOPs of " + c);
                assertEquals(cost.params(c), exported.parameterCount(), "params of " + c);
            }
        }
    }

    @Test
    void saveAndLoadKeepSpaceMethodAndWeights() throws Exception {
        VisionTransformer dense = backbone();
        SearchSpace space = SearchSpace.full(dense.config(), SearchSpace.DEFAULT_TARGETS, new double[] {0.25, 0.5, 1.0});
        Supernet s = Supernet.fromDense(dense, ModelInput.atModelSize(dense.config()), space, Method.SPOS);
        Path file = dir.resolve("s.safetensors");
        s.save(file);
        Supernet back = Supernet.load(file, backend);
        assertEquals(Method.SPOS, back.method());
        assertEquals(space.size(), back.space().size());
        Candidate c = Candidate.decode("0:1:2|2:0:1");
        Tensor x = images(2, dense.config().imageSize(), 3);
        s.apply(c);
        back.apply(c);
        float[] a = backend.download(s.model().forward(x, 2)).clone();
        assertEquals(0, maxRelDiff(backend.download(back.model().forward(x, 2)), a), 0);
        assertThrows(IllegalArgumentException.class, () -> s.apply(Candidate.decode("0:1:2")));
    }

    @Test
    void aDenseModelIsNotASupernet() throws Exception {
        var e = assertThrows(dev.flora.engine.io.FormatException.class, () -> Supernet.load(backbonePath(), backend));
        assertTrue(e.getMessage().contains("not a supernet"), e.getMessage());
    }
}
