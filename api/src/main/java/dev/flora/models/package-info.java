/**
 * The models and search spaces bundled with flora-j, and how a name or a path resolves to a file
 * ({@link dev.flora.models.ModelSource}). Depends on the engine only.
 */
package dev.flora.models;
