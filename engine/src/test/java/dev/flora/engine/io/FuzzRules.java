package dev.flora.engine.io;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ClassLoadingMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * The rule every fuzzed reader must keep (issue 27): given any bytes, it returns a result or
 * throws an allowed exception (a {@link FormatException}, or an {@link IllegalArgumentException}
 * where that is the documented contract; the CLI maps both to exit 2) whose message is one line
 * naming the source, and it allocates in proportion to its input. Anything else propagates, so
 * that Jazzer records the input as a finding.
 */
public final class FuzzRules {
    /** Room for a reader's fixed costs (buffers, a tiny model) before the proportional budget applies. */
    private static final long FIXED_BUDGET = 64L << 20;
    /**
     * Bytes a reader may allocate per input byte. The largest legitimate ratio is a 1-bit palette
     * PNG at deflate's best ratio (~1032:1): 8 · 1032 pixels per byte, each decoded to 3 bytes of
     * RGB beside its packed raster, about 26 KB; gzip'd IDX at 1032:1 as floats stays under it.
     */
    private static final long PER_INPUT_BYTE = 32 << 10;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private static final ClassLoadingMXBean CLASSES = ManagementFactory.getClassLoadingMXBean();

    private FuzzRules() {
    }

    /** A parse step that may throw anything. */
    @FunctionalInterface
    public interface Parse {
        void run() throws Exception;
    }

    /**
     * Runs {@code parse} on an input of {@code inputBytes} from {@code source}; a thrown exception
     * of one of the {@code allowed} types passes if its message is one line starting with {@code source}.
     */
    @SafeVarargs
    public static void check(String source, long inputBytes, Parse parse, Class<? extends RuntimeException>... allowed)
            throws Exception {
        long classesBefore = CLASSES.getTotalLoadedClassCount();
        long heapBefore = THREADS.getCurrentThreadAllocatedBytes();
        long directBefore = directBytes();
        try {
            parse.run();
        } catch (RuntimeException e) {
            if (List.of(allowed).stream().noneMatch(t -> t.isInstance(e))) {
                throw e;
            }
            String m = String.valueOf(e.getMessage());
            if (!m.startsWith(source) || m.lines().count() != 1) {
                throw new AssertionError("not one line naming " + source + ": " + m, e);
            }
        } finally {
            long budget = FIXED_BUDGET + PER_INPUT_BYTE * inputBytes;
            long heap = THREADS.getCurrentThreadAllocatedBytes() - heapBefore;
            long direct = directBytes() - directBefore;
            // loading (and, when fuzzing, instrumenting) classes allocates on this thread too: such runs are not measured
            boolean loadedClasses = CLASSES.getTotalLoadedClassCount() != classesBefore;
            if (!loadedClasses && (heap > budget || direct > budget)) {
                throw new AssertionError("allocated " + heap + " heap and " + direct + " direct bytes for "
                        + inputBytes + " input bytes (budget " + budget + ")");
            }
        }
    }

    /** {@link #check} of {@code parse} after {@code data} is written to {@code file}, which names the source. */
    @SafeVarargs
    public static void checkFile(java.nio.file.Path file, byte[] data, Parse parse,
                                 Class<? extends RuntimeException>... allowed) throws Exception {
        java.nio.file.Files.write(file, data);
        check(file.toString(), data.length, parse, allowed);
    }

    private static long directBytes() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getTotalCapacity).sum();
    }
}
