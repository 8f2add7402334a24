package dev.flora.bench.gpu;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Building a supernet's factors: the thin SVD of every low-rank target weight of a model (36 for
 * DeiT-B: qkv, fc1, fc2 in 12 blocks), as the supernet's SVD initialization runs it. Prints one
 * JSON line with the time for all of them and per module shape.
 */
@Command(name = "svd", mixinStandardHelpOptions = true, description = "SVD of a model's low-rank targets")
final class SvdSweep implements Callable<Integer> {
    @Mixin
    GpuBench.DeviceOptions options = new GpuBench.DeviceOptions();

    @Option(names = "--model", defaultValue = "deit-b")
    String model;

    @Override
    public Integer call() {
        Backend backend = options.open();
        ModelShapes shapes = ModelShapes.of(model);
        GpuClock clock = options.clock(backend);
        Random random = new Random(3);
        double total = 0;
        List<String> perModule = new ArrayList<>();
        for (ModelShapes.Module m : shapes.blockTargets()) {
            // a weight is [out, in] row-major
            int rows = m.out();
            int cols = m.in();
            int k = Math.min(rows, cols);
            Tensor w = GpuBench.random(backend, random, rows * cols, 1.0 / Math.sqrt(cols));
            Tensor a = backend.allocate(rows * cols);
            Tensor u = backend.allocate(rows * k);
            Tensor s = backend.allocate(k);
            Tensor vt = backend.allocate(k * cols);
            double ms = clock.millisPerCall(() -> {
                backend.copy(w, a); // gesvd destroys its input
                backend.svd(a, rows, cols, u, s, vt);
            });
            total += ms * shapes.config().depth();
            perModule.add(String.format(Locale.ROOT, "\"%s_%dx%d_ms\": %.2f", m.name(), rows, cols, ms));
        }
        System.out.printf(Locale.ROOT, "{\"engine\": \"flora-j\", \"model\": \"%s\", \"matrices\": %d, "
                + "\"total_ms\": %.1f, %s}%n", model, 3 * shapes.config().depth(), total, String.join(", ", perModule));
        return 0;
    }
}
