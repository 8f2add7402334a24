/**
 * The models and search spaces bundled with flora-j, how a name or a path resolves to a file
 * ({@link dev.flora.models.ModelSource}), and what a model file's metadata says beyond its
 * config: its preprocessing ({@link dev.flora.models.ModelPreprocessing}) and class names
 * ({@link dev.flora.models.ModelLabels}). Depends on the engine and {@code dev.flora.image} only.
 */
package dev.flora.models;
