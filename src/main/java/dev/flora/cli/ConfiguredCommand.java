package dev.flora.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;

/**
 * A command whose settings are a config record: {@link FloraCli} adds the flags of its keys
 * ({@link #flags()}) before parsing; {@code --config}, {@code --set}, {@code --print-config} and
 * {@code --device} come with it.
 */
abstract class ConfiguredCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions settings;

    @Mixin
    DeviceOption device;

    /** The flags of the command's config keys, with the command's defaults in their help. */
    abstract ConfigFlags flags();
}
