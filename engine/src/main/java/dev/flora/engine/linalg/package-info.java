/**
 * Linear algebra the low-rank search needs above single ops: the SVD factors of a weight in
 * FLORA's convention ({@link dev.flora.engine.linalg.LowRankFactors}), whose truncations
 * initialize factorized layers.
 *
 * <p>Depends only on {@code dev.flora.engine.backend} (for the SVD) and
 * {@code dev.flora.engine.tensor}.
 */
package dev.flora.engine.linalg;
