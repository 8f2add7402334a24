/**
 * The evolutionary search of FLORA over a trained supernet under FLOPs bounds
 * ({@link dev.flora.search.EvolutionarySearch}), resumable generation by generation, and its stage
 * ({@link dev.flora.search.SearchRunner}). Uses supernet, train, space and config.
 */
package dev.flora.search;
