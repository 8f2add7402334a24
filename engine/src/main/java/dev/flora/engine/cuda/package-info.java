/**
 * The CUDA backend: {@link dev.flora.engine.cuda.CudaBackend}'s ops as the kernels of
 * kernels/*.cu and cuBLAS/cuSOLVER calls on a {@link dev.flora.engine.cuda.Device}, either the
 * real GPU ({@link dev.flora.engine.cuda.JCudaDevice}) or the same kernels compiled for the
 * CPU ({@link dev.flora.engine.cuda.EmulatedDevice}), so that everything above the device
 * interface is tested without a GPU. {@link dev.flora.engine.cuda.Devices} opens the backend a
 * {@code --device} value names.
 *
 * <p>Depends on {@code dev.flora.engine.backend} and {@code dev.flora.engine.tensor}, on JCuda
 * and JavaCPP's CUDA and OpenBLAS presets, and on {@code dev.flora.engine.cpu} only to fall
 * back to the CPU backend and to load OpenBLAS for the emulated device; never on the model or
 * I/O packages.
 */
package dev.flora.engine.cuda;
