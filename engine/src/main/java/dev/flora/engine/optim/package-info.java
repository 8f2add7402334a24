/**
 * Training's optimizer side: AdamW over the parameter arena (the whole of it, or the slices one
 * subnet used), global gradient-norm clipping and the cosine learning-rate schedule, each as
 * PyTorch and timm define them.
 *
 * <p>Depends on {@code dev.flora.engine.nn} (the arena and its parameters),
 * {@code dev.flora.engine.backend} and {@code dev.flora.engine.tensor}.
 */
package dev.flora.engine.optim;
