/**
 * Rank allocations that need no supernet: from a dense ViT and a FLOPs target, the rank of every
 * target module by a rule on its spectrum (uniform, SVD energy, activation-aware SVD as in
 * SVD-LLM / ASVD, greedy per-module output error as in FLAR-SVD), one threshold bisected until
 * the subnet meets the target, and the subnet exported as an ordinary model file. Uses the
 * calibration package's covariances and activation-aware factors, the supernet's SVD
 * initialization and export, the training loop for an optional fine-tune, and the search space's
 * cost model; only the CLI (and the pipeline) use it.
 */
package dev.flora.allocation;
