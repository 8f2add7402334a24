/**
 * Training on the engine: the loop every stage shares ({@link dev.flora.train.TrainingLoop}: AdamW,
 * cosine schedule, checkpoints, bit-identical resume, metrics), evaluation, progress, and dense
 * pre-training as a stage ({@link dev.flora.train.Trainer}). Uses stage, config, data and models.
 */
package dev.flora.train;
