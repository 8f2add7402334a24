/**
 * The {@code flora} command line (picocli): one thin command per stage or pipeline. Settings come
 * from the config records ({@link dev.flora.cli.ConfigFlags} makes their flags), stages run through
 * {@link dev.flora.cli.StageCommand}. The top layer: nothing else depends on it.
 */
package dev.flora.cli;
