package dev.flora.bench.gpu;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * y = (x·V_rᵀ)·U_rᵀ + b three ways on the device: the fused kernel (the rank-r intermediate
 * stays on chip), two cuBLAS GEMMs and a bias add (what a framework does), and the dense layer
 * (one GEMM and a bias add). Each case first checks that the fused result matches the two
 * GEMMs, then times the three. Token counts are batch × 197 for DeiT at 224².
 */
@Command(name = "lowrank", mixinStandardHelpOptions = true,
        description = "fused low-rank linear vs two GEMMs vs the dense GEMM")
final class LowRankSweep implements Callable<Integer> {
    @Mixin
    GpuBench.DeviceOptions options = new GpuBench.DeviceOptions();

    @Option(names = "--models", split = ",", defaultValue = "deit-s,deit-b")
    List<String> models;

    @Option(names = "--ratios", split = ",", defaultValue = "0.125,0.25,0.375,0.5,0.625,0.75",
            description = "ranks as fractions of min(in, out)")
    List<Double> ratios;

    @Option(names = "--tokens", split = ",", defaultValue = "197,1576,12608", description = "token rows (batch × 197)")
    List<Integer> tokens;

    @Option(names = "--csv", description = "also write the rows here")
    Path csv;

    static final String HEADER = "model,module,in,out,ratio,rank,tokens,dense_ms,two_gemm_ms,fused_ms,"
            + "fused_speedup_vs_two_gemm,fused_speedup_vs_dense,ideal_speedup_vs_dense,max_rel_err";

    @Override
    public Integer call() throws IOException {
        Backend backend = options.open();
        GpuClock clock = options.clock(backend);
        List<String> rows = new ArrayList<>();
        System.out.println("| model | module | tokens | ratio | dense ms | 2×GEMM ms | fused ms | fused vs 2×GEMM "
                + "| fused vs dense | ideal vs dense | max rel err |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (String model : models) {
            for (ModelShapes.Module m : ModelShapes.of(model).blockTargets()) {
                for (int t : tokens) {
                    Case c = new Case(backend, m.in(), m.out(), t);
                    double dense = clock.millisPerCall(c::dense);
                    for (double ratio : ratios) {
                        int r = Math.max(1, (int) Math.round(ratio * c.maxRank));
                        double err = c.fusedError(r);
                        double two = clock.millisPerCall(() -> c.twoGemms(r));
                        double fused = clock.millisPerCall(() -> c.fused(r));
                        double ideal = (double) m.in() * m.out() / ((double) r * (m.in() + m.out()));
                        rows.add(String.format(Locale.ROOT, "%s,%s,%d,%d,%.3f,%d,%d,%.5f,%.5f,%.5f,%.3f,%.3f,%.3f,%.2e",
                                model, m.name(), m.in(), m.out(), ratio, r, t, dense, two, fused, two / fused,
                                dense / fused, ideal, err));
                        System.out.printf(Locale.ROOT,
                                "| %s | %s | %d | %.3f | %.4f | %.4f | %.4f | %.2fx | %.2fx | %.2fx | %.1e |%n",
                                model, m.name(), t, ratio, dense, two, fused, two / fused, dense / fused, ideal, err);
                    }
                }
            }
        }
        if (csv != null) {
            try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(csv))) {
                w.println(HEADER);
                rows.forEach(w::println);
            }
        }
        return 0;
    }

    /** The buffers of one (in, out, tokens) shape, shared by all its ranks. */
    private static final class Case {
        final Backend backend;
        final int in;
        final int out;
        final int rows;
        final int maxRank;
        final Tensor x;
        final Tensor vt;
        final Tensor u;
        final Tensor w;
        final Tensor bias;
        final Tensor h;
        final Tensor y;
        final Tensor reference;

        Case(Backend backend, int in, int out, int rows) {
            this.backend = backend;
            this.in = in;
            this.out = out;
            this.rows = rows;
            this.maxRank = Math.min(in, out);
            Random random = new Random(in * 31L + out);
            x = GpuBench.random(backend, random, rows * in, 1.0);
            vt = GpuBench.random(backend, random, maxRank * in, 1.0 / Math.sqrt(in));
            u = GpuBench.random(backend, random, out * maxRank, 1.0 / Math.sqrt(maxRank));
            w = GpuBench.random(backend, random, out * in, 1.0 / Math.sqrt(in));
            bias = GpuBench.random(backend, random, out, 0.1);
            h = backend.allocate(rows * maxRank);
            y = backend.allocate(rows * out);
            reference = backend.allocate(rows * out);
        }

        void dense() {
            backend.gemm(false, true, rows, out, in, 1f, x, in, w, in, 0f, y, out);
            backend.addBias(y, bias, rows, out);
        }

        void twoGemms(int r) {
            twoGemmsInto(r, y);
        }

        private void twoGemmsInto(int r, Tensor target) {
            backend.gemm(false, true, rows, r, in, 1f, x, in, vt, in, 0f, h, r);
            backend.gemm(false, true, rows, out, r, 1f, h, r, u, maxRank, 0f, target, out);
            backend.addBias(target, bias, rows, out);
        }

        void fused(int r) {
            backend.lowRankForward(x, vt, u, bias, null, null, y, rows, in, out, r, maxRank);
        }

        /** Largest |fused − two GEMMs| over the largest |two GEMMs|. */
        double fusedError(int r) {
            twoGemmsInto(r, reference);
            fused(r);
            float[] want = backend.download(reference);
            float[] got = backend.download(y);
            double maxDiff = 0;
            double maxAbs = 0;
            for (int i = 0; i < want.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
                maxAbs = Math.max(maxAbs, Math.abs(want[i]));
            }
            return maxDiff / Math.max(maxAbs, 1e-30);
        }
    }
}
