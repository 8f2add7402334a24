/**
 * The seam between the model and the hardware: {@link dev.flora.engine.backend.Backend}, every
 * op the ViT needs, and {@link dev.flora.engine.backend.OpContracts}, the argument checks every
 * implementation runs before it touches memory, so that all backends accept and reject the
 * same calls.
 *
 * <p>Depends only on {@code dev.flora.engine.tensor}; the implementations ({@code cpu},
 * {@code cuda}) depend on this package, never the other way round, and the model
 * ({@code nn}) sees no more of the hardware than this.
 */
package dev.flora.engine.backend;
