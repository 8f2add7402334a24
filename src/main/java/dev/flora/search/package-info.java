/**
 * The evolutionary search of FLORA over a trained supernet under FLOPs bounds
 * ({@link dev.flora.search.EvolutionarySearch}), resumable generation by generation, the fitness
 * of a subnet by one signal ({@link dev.flora.search.SubnetFitness}: top-1, loss, or KL from the
 * largest subnet's cached logits) and its stage ({@link dev.flora.search.SearchRunner}). Uses supernet, train, space and config.
 */
package dev.flora.search;
