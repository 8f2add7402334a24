/**
 * The contract of a step of work that owns a run directory ({@link dev.flora.stage.Stage}), the one
 * runner that skips, resumes and times stages ({@link dev.flora.stage.StageRunner}), and the run
 * directory's config check ({@link dev.flora.stage.RunDirectory}). Uses config and the engine's file I/O.
 */
package dev.flora.stage;
