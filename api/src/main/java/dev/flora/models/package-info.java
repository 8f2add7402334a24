/**
 * The models and search spaces bundled with flora-j, the presets (randomly initialised DeiTs,
 * registered in one place), how a name or a path resolves to a model or a file
 * ({@link dev.flora.models.ModelSource}), and what a model file's metadata says beyond its
 * config: its preprocessing ({@link dev.flora.models.ModelPreprocessing}), class names
 * ({@link dev.flora.models.ModelLabels}), both together ({@link dev.flora.models.ModelInput}).
 * Depends on the engine and {@code dev.flora.image} only.
 */
package dev.flora.models;
