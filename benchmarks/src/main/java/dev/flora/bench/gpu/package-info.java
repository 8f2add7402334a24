/**
 * The GPU benchmarks of the CUDA backend as {@code gpu-bench} subcommands: the fused low-rank
 * linear against cuBLAS GEMMs, a ViT training step and cuSOLVER SVD sweeps, each sample a run of
 * calls closed by one synchronize. With {@code --device cuda-emulated} the same code runs on the CPU, to check it
 * without a GPU.
 *
 * <p>Depends on picocli and on the engine's public API ({@code dev.flora.engine.cuda.Devices}
 * to open the backend, the model and the optimizer); nothing depends on it.
 */
package dev.flora.bench.gpu;
