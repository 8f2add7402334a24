/**
 * Test oracles shared by the engine's tests: double-precision reference implementations of
 * every op and of the whole ViT ({@link dev.flora.engine.reference.Ref},
 * {@link dev.flora.engine.reference.RefViT}), finite-difference gradients, comparisons with a
 * relative tolerance and seeded test inputs. Written as plainly as possible and sharing no code
 * with the engine, so that an engine bug cannot hide in its own oracle.
 *
 * <p>Test-only. Depends on JUnit and Commons Math, and on the engine only for the types the
 * oracles exchange with it ({@code backend.Backend}, {@code tensor.Tensor},
 * {@code nn.ViTConfig}).
 */
package dev.flora.engine.reference;
