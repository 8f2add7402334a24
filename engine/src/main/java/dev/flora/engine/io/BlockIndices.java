package dev.flora.engine.io;

import java.util.BitSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The block and choice indices in tensor names ({@code blocks.3.}, {@code .choices.2.}), read
 * so that a name cannot make the loader build more than the file holds: an index of any length
 * parses (as "too large" past a long), and the depth is the number of blocks present, each with
 * its own tensors, checked before the model is allocated.
 */
final class BlockIndices {
    private static final Pattern BLOCK = Pattern.compile("^blocks\\.(\\d+)\\.");
    private static final String[] BLOCK_NORMS = {"norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"};
    private static final String[] BLOCK_LINEARS = {"attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"};

    private BlockIndices() {
    }

    /** The decimal {@code digits} as a long, or {@link Long#MAX_VALUE} when they do not fit one. */
    static long parse(String digits) {
        return digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
    }

    /**
     * The depth of the ViT in {@code file}: one more than its largest block index, provided every
     * block below it has its norms and its four linear modules (dense or factorized); 0 when no
     * tensor is under {@code blocks.}.
     */
    static int depth(SafeTensors file) {
        int tensors = file.entries().size();
        BitSet present = new BitSet();
        long deepest = -1;
        String deepestName = null;
        String deepestDigits = null;
        for (String name : file.entries().keySet()) {
            Matcher m = BLOCK.matcher(name);
            if (!m.find()) {
                continue;
            }
            long index = parse(m.group(1));
            if (index > deepest) {
                deepest = index;
                deepestName = name;
                deepestDigits = m.group(1);
            }
            if (index < tensors) {
                present.set((int) index);
            }
        }
        // each block has several tensors, so the scan stops at a missing block before `tensors`
        for (long k = 0; k <= deepest; k++) {
            String missing = k < tensors && present.get((int) k) ? missingTensor(file, "blocks." + k)
                    : "blocks." + k + "." + BLOCK_NORMS[0];
            if (missing != null) {
                throw new FormatException(file.path() + ": missing tensor " + missing + " (tensor " + deepestName
                        + " implies blocks 0.." + deepestDigits + ", and each block needs its own tensors)");
            }
        }
        return (int) (deepest + 1);
    }

    /** The first tensor that block {@code prefix} lacks, or null when it has them all. */
    private static String missingTensor(SafeTensors file, String prefix) {
        for (String norm : BLOCK_NORMS) {
            if (!file.contains(prefix + "." + norm)) {
                return prefix + "." + norm;
            }
        }
        for (String linear : BLOCK_LINEARS) {
            String module = prefix + "." + linear;
            if (!file.contains(module + ".weight") && !file.contains(module + ".VT.weight")
                    && !file.contains(module + ".choices.0.VT.weight")) {
                return module + ".weight";
            }
        }
        return null;
    }
}
