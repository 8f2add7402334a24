/**
 * Tensors as the engine passes them around: a float32 {@link dev.flora.engine.tensor.Tensor}
 * view (offset and row-major shape) into a {@link dev.flora.engine.tensor.Storage}, with
 * off-heap host memory as the one storage kept here. Tensors carry no autograd state and know
 * no ops; the backends compute on them.
 *
 * <p>The bottom of the engine: depends only on the JDK and JavaCPP (for the host memory's
 * native pointer), never on another engine package.
 */
package dev.flora.engine.tensor;
