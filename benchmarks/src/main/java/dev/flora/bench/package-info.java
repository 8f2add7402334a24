/**
 * The engine's CPU benchmarks: JMH benchmarks of single ops (GEMM, attention, SVD, the
 * factorized layer, loop forms) and of the whole model, and {@link dev.flora.bench.OpProfile},
 * which times a forward or training step op by op, and {@link dev.flora.bench.InputPipelineBench},
 * images per second of decoding and preprocessing, and {@link dev.flora.bench.PredictorLoadTest},
 * many threads on one {@code VitPredictor} (throughput, latency percentiles, resident memory,
 * answers against one thread's). Results belong in the performance notes, not in this code.
 *
 * <p>Depends on JMH, on the engine's public API ({@code dev.flora.engine.*}, the CPU backend
 * among it) and on the API module (its image package and {@code VitPredictor}); nothing in them depends on it. The ONNX
 * Runtime peer of the same package lives in src/peers (the {@code peers} profile) so that the
 * default build does not pull in ONNX Runtime.
 */
package dev.flora.bench;
