package dev.flora.space;

import java.util.Arrays;

/**
 * One architecture of a {@link SearchSpace}: for every block and every target module of the
 * block, the index of its rank ratio. Stored flat, block-major ({@code [block * targets + t]}).
 */
public final class Candidate {

    private final int[] ratioIndex;
    private final int targets;

    public Candidate(int[] ratioIndex, int targets) {
        if (targets <= 0 || ratioIndex.length % targets != 0) {
            throw new IllegalArgumentException("a candidate needs a whole number of blocks of " + targets + " genes");
        }
        this.ratioIndex = ratioIndex.clone();
        this.targets = targets;
    }

    /** Every module at ratio index {@code index}: the uniform-rank architecture. */
    public static Candidate uniform(int blocks, int targets, int index) {
        int[] g = new int[blocks * targets];
        Arrays.fill(g, index);
        return new Candidate(g, targets);
    }

    public int blocks() {
        return ratioIndex.length / targets;
    }

    public int targets() {
        return targets;
    }

    public int ratioIndex(int block, int target) {
        return ratioIndex[block * targets + target];
    }

    /** The ratio indices of one block (its tuple). */
    public int[] tuple(int block) {
        return Arrays.copyOfRange(ratioIndex, block * targets, (block + 1) * targets);
    }

    /** A copy with block {@code block} set to {@code tuple}. */
    public Candidate withTuple(int block, int[] tuple) {
        int[] g = ratioIndex.clone();
        System.arraycopy(tuple, 0, g, block * targets, targets);
        return new Candidate(g, targets);
    }

    public int[] genes() {
        return ratioIndex.clone();
    }

    /** Compact text form, safe in CSV: blocks separated by '|', modules by ':' (e.g. {@code 6:6:6|0:3:2}). */
    public String encode() {
        StringBuilder sb = new StringBuilder();
        for (int b = 0; b < blocks(); b++) {
            if (b > 0) {
                sb.append('|');
            }
            for (int t = 0; t < targets; t++) {
                if (t > 0) {
                    sb.append(':');
                }
                sb.append(ratioIndex(b, t));
            }
        }
        return sb.toString();
    }

    /**
     * The candidate of a code written by {@link #encode}; anything else (a letter, a sign, an empty
     * block, a number past an int, blocks of different lengths) is an IllegalArgumentException that
     * quotes the code.
     */
    public static Candidate decode(String s) {
        // checked by hand, not by a regular expression: java.util.regex recurses once per repeated
        // group and overflows the stack on codes of a few thousand characters
        if (!isCode(s)) {
            throw new IllegalArgumentException("candidate '" + printable(s) + "': expected ratio indices such as "
                    + "6:6:6|0:3:2 (digits, ':' between a block's modules, '|' between blocks)");
        }
        String[] blocks = s.split("\\|");
        int targets = blocks[0].split(":").length;
        int[] g = new int[blocks.length * targets];
        for (int b = 0; b < blocks.length; b++) {
            String[] parts = blocks[b].split(":");
            if (parts.length != targets) {
                throw new IllegalArgumentException("candidate '" + printable(s) + "': block " + b + " has "
                        + parts.length + " genes, expected " + targets);
            }
            for (int t = 0; t < targets; t++) {
                try {
                    g[b * targets + t] = Integer.parseInt(parts[t].trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("candidate '" + printable(s) + "': ratio index "
                            + parts[t].trim() + " is too large");
                }
            }
        }
        return new Candidate(g, targets);
    }

    /**
     * Whether {@code s} is blocks of ':'-separated decimal indices (spaces and tabs around them
     * allowed), separated by '|'.
     */
    private static boolean isCode(String s) {
        for (String block : s.split("\\|", -1)) {
            for (String gene : block.split(":", -1)) {
                String g = gene.strip();
                if (g.isEmpty() || !gene.chars().allMatch(ch -> ch == ' ' || ch == '\t' || (ch >= '0' && ch <= '9'))
                        || !g.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
                    return false;
                }
            }
        }
        return true;
    }

    /** {@code s} for an error message: control characters as '?', at most 80 characters. */
    private static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Candidate c && c.targets == targets && Arrays.equals(c.ratioIndex, ratioIndex);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ratioIndex) * 31 + targets;
    }

    @Override
    public String toString() {
        return encode();
    }
}
