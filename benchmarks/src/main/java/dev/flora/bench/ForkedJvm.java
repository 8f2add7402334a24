package dev.flora.bench;

/**
 * JVM arguments every benchmark fork gets, prepended: JMH's {@code -jvmArgsAppend} on the command
 * line (where our commands pass {@code -Dflora.openblas.core=detect}) replaces an annotation's
 * appended arguments but not its prepended ones.
 */
final class ForkedJvm {
    /**
     * The CPU backend's layernorm, softmax and GELU use the Vector API where the JVM has its
     * module (CpuKernels); the benchmarks measure what the {@code flora} launcher runs.
     * {@code -jvmArgsAppend -Dflora.vector=off} measures the scalar loops.
     */
    static final String VECTOR_API = "--add-modules=jdk.incubator.vector";

    private ForkedJvm() {
    }
}
