package dev.flora.data;

/** One half of a package cycle (data → report → data) made on purpose for {@code LayeringTest}; never used. */
final class CycleFixture {
    private CycleFixture() {
    }

    static Object other() {
        return new dev.flora.report.CycleFixture();
    }
}
