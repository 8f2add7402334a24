/**
 * The models and search spaces bundled with flora-j, the presets (randomly initialised DeiTs,
 * registered in one place), and how a name or a path resolves to a model or a file
 * ({@link dev.flora.models.ModelSource}). Depends on the engine only.
 */
package dev.flora.models;
