/**
 * The vocabulary every stage shares: the search space of rank tuples per block
 * ({@link dev.flora.space.SearchSpace}), one architecture in it ({@link dev.flora.space.Candidate}),
 * FLOPs and parameter counts ({@link dev.flora.space.CostModel}) and FLOPs bounds. Depends on the engine
 * (for the ViT shape) only.
 */
package dev.flora.space;
