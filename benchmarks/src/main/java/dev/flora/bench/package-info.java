/**
 * The engine's CPU benchmarks: JMH benchmarks of single ops (GEMM, attention, SVD, the
 * factorized layer, loop forms) and of the whole model, and {@link dev.flora.bench.OpProfile},
 * which times a forward or training step op by op. Results belong in the performance notes,
 * not in this code.
 *
 * <p>Depends on JMH and on the engine's public API ({@code dev.flora.engine.*}, the CPU backend
 * among it); nothing in the engine depends on it. The ONNX Runtime peer of the same package
 * lives in src/peers (the {@code peers} profile) so that the default build does not pull in
 * ONNX Runtime.
 */
package dev.flora.bench;
