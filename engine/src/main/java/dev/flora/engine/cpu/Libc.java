package dev.flora.engine.cpu;

import com.sun.jna.NativeLibrary;

/**
 * The process environment as native libraries read it. A JVM cannot change its own
 * environment, but OpenBLAS and OpenMP read theirs (kernel set, wait policy) from it once, when
 * they load, so this edits it through libc before they do.
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

    private static NativeLibrary libc() {
        return NativeLibrary.getInstance("c");
    }

    private static void check(int rc, String name) {
        if (rc != 0) {
            throw new IllegalStateException("could not set " + name + " (libc returned " + rc + ")");
        }
    }
}
