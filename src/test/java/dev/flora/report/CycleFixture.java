package dev.flora.report;

/** The other half of the package cycle made on purpose for {@code LayeringTest}; never used. */
public final class CycleFixture {
    public Object back() {
        return dev.flora.data.Datasets.class;
    }
}
