/**
 * Compositions of stages: {@link dev.flora.pipeline.Compressor} (filter, supernets, searches, export,
 * report) and {@link dev.flora.pipeline.Ablation} (paper figures 4 and 5), each in one run directory,
 * every stage skipped or resumed by one {@link dev.flora.stage.StageRunner}. Used by cli only.
 */
package dev.flora.pipeline;
