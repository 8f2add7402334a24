package dev.flora.bench.gpu;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.cuda.Devices;
import dev.flora.engine.tensor.Tensor;
import java.util.Random;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The GPU benchmarks of the CUDA backend, one subcommand each (tools/gpu/bench.sh runs them all
 * with the PyTorch peers): the fused low-rank linear against two cuBLAS GEMMs and the dense
 * GEMM, a ViT training step, and cuSOLVER SVD of a model's low-rank targets. On a machine
 * without a GPU, {@code --device cuda-emulated} runs the same code (slowly) to check it.
 */
@Command(name = "gpu-bench", mixinStandardHelpOptions = true,
        subcommands = {LowRankSweep.class, TrainStep.class, SvdSweep.class})
public final class GpuBench {
    /** Options every subcommand takes. */
    static final class DeviceOptions {
        @Option(names = "--device", defaultValue = "cuda", description = "cuda or cuda-emulated (default: ${DEFAULT-VALUE})")
        String device;

        @Option(names = "--precision", defaultValue = "fp32", description = "fp32, tf32 or bf16 (default: ${DEFAULT-VALUE})")
        String precision;

        @Option(names = "--min-ms", defaultValue = "20", description = "least milliseconds per timing sample")
        double minMillis;

        @Option(names = "--samples", defaultValue = "5", description = "timing samples; the median is reported")
        int samples;

        Backend open() {
            if (!device.startsWith("cuda")) {
                throw new IllegalArgumentException("--device " + device + ": expected cuda or cuda-emulated");
            }
            Devices.Opened opened = Devices.open(device, Precision.parse(precision, "--precision"));
            System.err.println(opened.line() + ", precision " + precision);
            return opened.backend();
        }

        GpuClock clock(Backend backend) {
            return new GpuClock(backend, minMillis, samples);
        }
    }

    /** A device tensor of normally distributed values (scaled), seeded. */
    static Tensor random(Backend backend, Random random, int count, double scale) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        Tensor t = backend.allocate(count);
        backend.upload(values, 0, t);
        return t;
    }

    private GpuBench() {
    }

    /** The command line, with bad input reported in one line and exit code 2. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new GpuBench());
        cli.setExecutionExceptionHandler((e, commandLine, parsed) -> {
            commandLine.getErr().println("gpu-bench: " + e.getMessage());
            return 2;
        });
        return cli;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
