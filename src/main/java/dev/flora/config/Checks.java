package dev.flora.config;

/** Range checks of settings: a failed one is an {@link IllegalArgumentException} whose message names the key. */
public final class Checks {
    private Checks() {
    }

    public static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Every ratio in (0, 1]; null (the default ratios) passes. */
    static void ratios(double[] ratios) {
        if (ratios != null) {
            for (double r : ratios) {
                require(r > 0 && r <= 1, "rank ratio " + r + " is outside (0, 1]");
            }
        }
    }

    static void fraction(double value, String key) {
        require(value >= 0 && value <= 1, key + " must be in [0, 1], got " + value);
    }
}
