/**
 * The CPU backend: {@link dev.flora.engine.cpu.CpuBackend}'s ops, GEMM and SVD from OpenBLAS
 * and LAPACK on off-heap memory, everything else in Java loops, and what they run on: the
 * GEMM scheduling policy ({@link dev.flora.engine.cpu.GemmScheduler}), the thread pool and
 * spinning helper ({@link dev.flora.engine.cpu.Parallel}), the factorized layer's chunked
 * GEMMs ({@link dev.flora.engine.cpu.CpuLowRank}) and the row kernels
 * ({@link dev.flora.engine.cpu.CpuKernels}). All parallel work has fixed boundaries, so
 * results never depend on the thread count or timing. The inference backends (bf16, and fp32
 * for inference) run the linear layers, attention and layer norm on oneDNN instead
 * ({@code OneDnnLinears}, {@code OneDnnAttention}, {@code OneDnnLayerNorm}), a block as two
 * ops (layer norm, attention and its projections; layer norm and the MLP) whose intermediates
 * stay in the products' format; mixed-precision training runs its bf16 GEMMs
 * ({@code Bf16Gemm}), and both training backends run attention's strided-batched products
 * ({@code OneDnnMatmuls}), the softmax ({@code OneDnnSoftmax}), GELU's backward
 * ({@code OneDnnGelu}) and layer norm's ({@code OneDnnLayerNormBackward}) on oneDNN.
 *
 * <p>Depends on {@code dev.flora.engine.backend} and {@code dev.flora.engine.tensor}, on
 * OpenBLAS and oneDNN through JavaCPP, JNA (to set OpenBLAS's kernel choice and OpenMP's
 * before they load, and to return pages early) and the incubating Vector API where the JVM has
 * it; never on the model, I/O or CUDA packages.
 */
package dev.flora.engine.cpu;
