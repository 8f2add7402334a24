package dev.flora.space;

import java.util.Locale;

/**
 * Lower and upper FLOPs bounds of a search, in multiply-accumulates per image. Parsed from
 * flag values that are either fractions of the dense model (0.5, 50%) or absolute counts
 * (31.5M, 8G, 31500000).
 */
public record FlopsBounds(long lower, long upper) {
    public FlopsBounds {
        if (lower < 0 || upper <= 0 || lower > upper) {
            throw new IllegalArgumentException("FLOPs bounds [" + lower + ", " + upper + "] are empty or negative");
        }
    }

    public static FlopsBounds parse(String lower, String upper, long denseMacs) {
        return new FlopsBounds(parse(lower, denseMacs, "min_flops"), parse(upper, denseMacs, "max_flops"));
    }

    /** One bound: a fraction or percent of {@code denseMacs}, or an absolute count with an optional K/M/G suffix. */
    public static long parse(String value, long denseMacs, String name) {
        String v = value.trim().toUpperCase(Locale.ROOT);
        try {
            if (v.endsWith("%")) {
                return Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) / 100 * denseMacs);
            }
            double scale = switch (v.charAt(v.length() - 1)) {
                case 'K' -> 1e3;
                case 'M' -> 1e6;
                case 'G' -> 1e9;
                default -> 0;
            };
            if (scale > 0) {
                return Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * scale);
            }
            double x = Double.parseDouble(v);
            if (x < 0) {
                throw new IllegalArgumentException(name + " " + value + " is negative");
            }
            return x <= 1 ? Math.round(x * denseMacs) : Math.round(x);
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            throw new IllegalArgumentException(name + " '" + value + "' is not a FLOPs bound (expected a fraction of the "
                    + "dense model such as 0.5 or 50%, or a count such as 31.5M)");
        }
    }
}
