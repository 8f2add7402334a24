package dev.flora.space;

import dev.flora.pipeline.Compressor;

/** Breaks the layering on purpose (space reaching up to pipeline) for {@code LayeringTest}; never used. */
final class UpwardImportFixture {
    private UpwardImportFixture() {
    }

    static Class<?> upward() {
        return Compressor.class;
    }
}
