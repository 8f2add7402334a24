/**
 * The SVD supernet with weight inheritance ({@link dev.flora.supernet.Supernet}), LRAT and SPOS
 * sampling ({@link dev.flora.supernet.Sampler}), in-place distillation steps
 * ({@link dev.flora.supernet.SupernetTask}), supernet training as a stage and subnet export.
 * Uses train, space and config.
 */
package dev.flora.supernet;
