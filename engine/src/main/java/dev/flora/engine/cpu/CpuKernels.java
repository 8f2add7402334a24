package dev.flora.engine.cpu;

import dev.flora.engine.tensor.Tensor;

/**
 * The CPU backend's element-wise and row-wise loops that OpenBLAS does not run: layernorm,
 * softmax and the GELU forward, on host tensors, each call one task's share of an op. Two
 * implementations compute the same functions: {@link ScalarCpuKernels}, plain loops that C2
 * auto-vectorizes where it can, over heap copies of the rows; and {@link VectorCpuKernels},
 * written with the incubating Vector API for what C2 leaves scalar (see there).
 *
 * <p>The backward passes stay in {@link CpuBackend}'s scalar loops (the mixed-precision backend,
 * which has oneDNN loaded, runs GELU's and the softmax's there instead). A Vector API GELU backward
 * (about 28 vector operations per 16 floats) outgrew C2's inlining budget in JDK 17: its
 * stores were left as calls and the vectors were boxed, which made it slower than the scalar
 * loops. Kernels here keep their loop bodies small for that reason.
 *
 * <p>The Vector API is opt-in: its module is only there when the JVM runs with
 * {@code --add-modules jdk.incubator.vector} (the {@code flora} launcher, the tests and the
 * benchmarks pass it). {@link #selected()} looks for that module before it loads any class that
 * refers to it, so a JVM without it never links one and runs the scalar loops.
 */
interface CpuKernels {
    /**
     * {@code -Dflora.vector=off} (or {@code false}, like {@code flora.spinning-helper}) keeps the
     * scalar loops even where the Vector API is there.
     */
    String VECTOR_PROPERTY = "flora.vector";

    /** y[i] = GELU(x[i]) (the exact, erf form) for from ≤ i &lt; to. */
    void geluForward(Tensor x, Tensor y, int from, int to);

    /**
     * Layernorm of rows [from, to) of {@code cols} floats, x into y (which may be x):
     * y = (x − mean)·rstd·gamma + beta with rstd = 1/√(var + eps), the biased variance; each
     * row's mean and rstd go to {@code mean} and {@code rstd}.
     */
    void layerNormRows(Tensor x, Tensor y, Tensor mean, Tensor rstd, float[] gamma, float[] beta, float eps,
                       int cols, int from, int to);

    /** Softmax of rows [from, to) of {@code cols} floats of s, in place. */
    void softmaxRows(Tensor s, int cols, int from, int to);

    /** What these loops run on, for reports ("scalar loops", "Vector API, 16 floats"). */
    String describe();

    /** The kernels this JVM uses: vector ones where the module is there and worth it, else scalar. */
    static CpuKernels selected() {
        return Selection.KERNELS;
    }

    /** Holds the choice, made once on first use. */
    final class Selection {
        static final CpuKernels KERNELS = choose(System.getProperty(VECTOR_PROPERTY, "auto"),
                ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());

        private Selection() {
        }

        /** The kernels for a {@code flora.vector} setting, where the module is there or not. */
        static CpuKernels choose(String setting, boolean vectorModule) {
            if ("off".equalsIgnoreCase(setting) || "false".equalsIgnoreCase(setting) || !vectorModule) {
                return new ScalarCpuKernels();
            }
            try {
                // by name, so that the scalar path never loads a class that needs the module
                Class<?> vector = Class.forName("dev.flora.engine.cpu.VectorCpuKernels");
                if ((boolean) vector.getDeclaredMethod("worthUsing").invoke(null)) {
                    return (CpuKernels) vector.getDeclaredConstructor().newInstance();
                }
            } catch (ReflectiveOperationException | LinkageError e) {
                // a runtime without the classes: the scalar loops are always correct
            }
            return new ScalarCpuKernels();
        }
    }
}
