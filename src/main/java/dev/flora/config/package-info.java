/**
 * Settings, declared once: one record per stage ({@code TrainConfig}, {@code SupernetConfig},
 * {@code FilterConfig}, {@code SearchConfig}) and pipeline ({@code CompressConfig},
 * {@code AblationConfig}), built from shared sections ({@link dev.flora.config.LoopSettings},
 * {@code SpaceSettings}, {@code DistillSettings}, {@code EvolutionSettings}); choices are enums.
 * A component name is the YAML key, its description the help, the {@code defaults()} the one set of
 * defaults. {@link dev.flora.config.Configs} layers defaults, files, flags and {@code --set}. Depends
 * on data and models for the names of the bundled defaults only.
 */
package dev.flora.config;
