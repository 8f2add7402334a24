/**
 * Image data: IDX files, CIFAR binaries, image folders and the bundled Fashion-MNIST subset
 * ({@link dev.flora.data.Datasets}) as {@link dev.flora.data.ImageSource}s, the train /
 * validation / test splits, and batches ({@link dev.flora.data.BatchLoader}) through the model's
 * preprocessing, decoded on worker threads. Depends on the engine and {@code dev.flora.image}.
 */
package dev.flora.data;
