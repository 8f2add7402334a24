/**
 * The model: a timm/DeiT Vision Transformer ({@link dev.flora.engine.nn.VisionTransformer}) and
 * its layers, dense and factorized linear layers (with FLORA's weight inheritance across ranks,
 * or SPOS's independent choices), attention, MLP, layernorm and patch embedding, all parameters
 * in one {@link dev.flora.engine.nn.ParameterArena} under timm's names. Layers hold no math of
 * their own: each forward and backward is a sequence of backend ops.
 *
 * <p>Depends only on {@code dev.flora.engine.backend} and {@code dev.flora.engine.tensor}, so
 * the same model runs on every backend; it never names a backend implementation.
 */
package dev.flora.engine.nn;
