package dev.flora.bench;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.ViTInitializer;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.optim.AdamW;
import dev.flora.engine.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Whole-model speed: a training step of vit-fmnist at batch 128, and inference at batch 1 and
 * 256 of a dense or a compressed model (-p model=PATH: a safetensors file, e.g. an exported
 * FLORA subnet; "random" builds a randomly initialized vit-fmnist). -p precision=bf16 trains on
 * the mixed-precision backend and infers on the bf16 one, the same weights on both.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsPrepend = ForkedJvm.VECTOR_API)
public class ViTBenchmark {
    @Param({"random"})
    String model;

    @Param({"fp32"})
    String precision;

    private Backend backend;
    private VisionTransformer vit;
    private VisionTransformer inferVit;
    private Tensor x128;
    private Tensor x256;
    private Tensor x1;
    private Tensor dLogits;
    private int[] labels;
    private AdamW optimizer;

    @Setup
    public void setup() {
        boolean bf16 = Precision.parse(precision, "precision") == Precision.BF16;
        backend = bf16 ? CpuBackend.mixedPrecisionTraining() : new CpuBackend();
        vit = build(backend);
        inferVit = bf16 ? build(new CpuBackend(Precision.BF16)) : vit;
        int size = vit.config().imageSize();
        Backend inferBackend = inferVit.backend();
        x1 = inferBackend.allocate(size);
        x128 = backend.allocate(128 * size);
        x256 = inferBackend.allocate(256 * size);
        inferBackend.fill(x256, 0.3f);
        backend.fill(x128, 0.3f);
        inferBackend.fill(x1, 0.3f);
        dLogits = backend.allocate(128 * vit.config().numClasses());
        labels = new int[128];
        Arrays.setAll(labels, i -> i % vit.config().numClasses());
        optimizer = new AdamW(vit.arena(), 0.05f);
    }

    private VisionTransformer build(Backend on) {
        if (!model.equals("random")) {
            return ModelIO.load(Path.of(model), on, OptionalInt.empty());
        }
        VisionTransformer v = new VisionTransformer(on, ViTConfig.vitFmnist());
        ViTInitializer.initialize(v, 1);
        return v;
    }

    /** One optimizer step at batch 128 (forward, loss, backward, AdamW). */
    @Benchmark
    public Tensor trainStep128() {
        vit.arena().zeroGrads();
        Tensor logits = vit.forward(x128, 128);
        backend.crossEntropy(logits, labels, dLogits, 128, vit.config().numClasses(), 0.1f, 1f / 128, false);
        vit.backward(dLogits);
        optimizer.step(1e-6f, vit.trainableRegions());
        return logits;
    }

    @Benchmark
    public Tensor infer1() {
        return inferVit.infer(x1, 1);
    }

    @Benchmark
    public Tensor infer256() {
        return inferVit.infer(x256, 256);
    }
}
