package dev.flora.engine.cpu;

/** Prints the OpenBLAS kernel set a fresh JVM runs (for {@link OpenBlasKernelsTest}). */
public final class OpenBlasCoreProbe {
    private OpenBlasCoreProbe() {
    }

    public static void main(String[] args) {
        OpenBlasKernels.ensureLoaded();
        System.out.println(OpenBlasKernels.coreName());
    }
}
