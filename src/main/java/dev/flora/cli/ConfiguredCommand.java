package dev.flora.cli;

/** A command whose settings are a config record: {@link FloraCli} adds its flags before parsing. */
interface ConfiguredCommand {
    /** The command's config options ({@code --config}, {@code --set}, {@code --print-config}). */
    ConfigOptions settings();

    /** The flags of the command's config keys, with the command's defaults in their help. */
    ConfigFlags flags();
}
