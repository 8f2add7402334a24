/**
 * Image data: IDX files and the bundled Fashion-MNIST subset ({@link dev.flora.data.Datasets}), the
 * train / validation / test splits, and batches with augmentation ({@link dev.flora.data.BatchLoader}).
 * Depends on the engine only.
 */
package dev.flora.data;
