package dev.flora.engine.cpu;

import com.sun.jna.NativeLibrary;

/**
 * The process environment as native libraries read it. A JVM cannot change its own
 * environment, but OpenBLAS and OpenMP read theirs (kernel set, wait policy) from it once, when
 * they load, so this edits it through libc before they do. And returning pages of native memory
 * early ({@link #discardPages}).
 */
final class Libc {
    private Libc() {
    }

    static void setenv(String name, String value) {
        check((Integer) libc().getFunction("setenv").invoke(Integer.class, new Object[] {name, value, 1}), name);
    }

    static void unsetenv(String name) {
        check((Integer) libc().getFunction("unsetenv").invoke(Integer.class, new Object[] {name}), name);
    }

    /** The variable as native code sees it now (System.getenv keeps the environment the JVM started with). */
    static String getenv(String name) {
        return (String) libc().getFunction("getenv").invoke(String.class, new Object[] {name});
    }

    /** Linux's MADV_DONTNEED: the pages' memory is returned now; private anonymous pages read as zeros after. */
    private static final int MADV_DONTNEED = 4;
    private static final long PAGE = 4096;

    /**
     * Returns to the system the whole pages inside [address, address + bytes) (the partial pages
     * at either end are kept, since other data may share them). Their contents are gone: only
     * for memory nothing will read again before it is freed. Returns the bytes discarded.
     */
    static long discardPages(long address, long bytes) {
        long start = (address + PAGE - 1) / PAGE * PAGE;
        long end = (address + bytes) / PAGE * PAGE;
        if (end <= start) {
            return 0;
        }
        int rc = (Integer) libc().getFunction("madvise").invoke(Integer.class,
                new Object[] {new com.sun.jna.Pointer(start), end - start, MADV_DONTNEED});
        return rc == 0 ? end - start : 0; // the memory stays, as it would have without the call
    }

    private static NativeLibrary libc() {
        return NativeLibrary.getInstance("c");
    }

    private static void check(int rc, String name) {
        if (rc != 0) {
            throw new IllegalStateException("could not set " + name + " (libc returned " + rc + ")");
        }
    }
}
