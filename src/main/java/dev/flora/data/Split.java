package dev.flora.data;

/**
 * The three parts every command agrees on. {@code VAL} is carved from the training file by a
 * fixed permutation (independent of any training seed), so training, filtering and search all
 * score on the same held-out images; {@code TEST} is the test file, used for final numbers only.
 */
public enum Split {
    TRAIN, VAL, TEST;

    public static Split parse(String s) {
        for (Split v : values()) {
            if (v.name().equalsIgnoreCase(s)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown split '" + s + "' (expected train, val or test)");
    }
}
