package dev.flora.engine.cpu;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import java.util.Optional;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * Loads OpenBLAS once, after applying the kernel choice of {@code -Dflora.openblas.core}.
 *
 * <p>OpenBLAS picks its kernels when the library loads, from the CPU id, unless the environment
 * variable {@code OPENBLAS_CORETYPE} names a kernel set; it reads the variable only at that
 * moment. The choice matters: an environment may name an older kernel set than the CPU has
 * (our development machine, a 2-core AMD EPYC with AVX-512, starts processes with
 * {@code OPENBLAS_CORETYPE=Haswell}, AVX2 kernels), and half-width vectors leave GEMM far
 * below what OpenBLAS's own pick (Cooperlake, AVX-512) reaches on that CPU. A JVM cannot
 * change its environment, so this class edits the process environment through libc before
 * the library loads:
 * <ul>
 *   <li>{@code inherit} (the default): the environment as the process got it;
 *   <li>{@code detect}: drop {@code OPENBLAS_CORETYPE}, so OpenBLAS picks from the CPU id;
 *   <li>a core name such as {@code SkylakeX} or {@code Haswell}: use that kernel set.
 * </ul>
 * {@link #coreName()} says which kernels actually run; {@code flora bench} prints it.
 */
public final class OpenBlasKernels {
    public static final String PROPERTY = "flora.openblas.core";
    static final String ENV = "OPENBLAS_CORETYPE";

    static {
        String coreType = coreTypeFor(System.getProperty(PROPERTY, "inherit"));
        if (coreType != null) {
            setenv(coreType);
        }
        Loader.load(openblas_nolapack.class);
        // our own pool splits the work; OpenBLAS's spinning workers would compete with it
        openblas_nolapack.blas_set_num_threads(1);
    }

    private OpenBlasKernels() {
    }

    /** Makes sure OpenBLAS is loaded with the chosen kernels; call before any OpenBLAS routine. */
    public static void ensureLoaded() {
        // the work happens once, in the static initializer
    }

    /**
     * What {@code OPENBLAS_CORETYPE} must become for a value of {@value #PROPERTY}: null to leave
     * the environment alone, "" to remove the variable, else the core name to set.
     */
    static String coreTypeFor(String property) {
        String p = property.trim();
        if (p.isEmpty() || p.equalsIgnoreCase("inherit")) {
            return null;
        }
        if (p.equalsIgnoreCase("detect")) {
            return "";
        }
        if (!p.matches("[A-Za-z0-9]+")) {
            throw new IllegalArgumentException("-D" + PROPERTY + " must be inherit, detect or an OpenBLAS core name "
                    + "such as SkylakeX or Haswell, got '" + property + "'");
        }
        return p;
    }

    /**
     * Whether the kernels that run have OpenBLAS's small-matrix GEMM path: its AVX-512 sets
     * (SkylakeX and the Cooperlake and SapphireRapids sets built on it) run a product of at most
     * 100³ multiply-adds without packing its operands (their {@code sgemm_small_kernel_permit};
     * the transposed-A form only when C has at most 1200 elements).
     */
    public static boolean hasSmallMatrixKernels() {
        return SmallMatrix.PRESENT;
    }

    /** Resolved on first use, after the library has loaded. */
    private static final class SmallMatrix {
        static final boolean PRESENT = java.util.Set.of("skylakex", "cooperlake", "sapphirerapids")
                .contains(coreName().toLowerCase(java.util.Locale.ROOT));
    }

    /** The core name OpenBLAS reports for the kernels it runs (e.g. "SkylakeX", "Haswell"). */
    public static String coreName() {
        String path = Loader.getLoadedLibraries().entrySet().stream()
                .filter(e -> e.getKey().matches("openblas(_nolapack)?(@.*)?")) // libopenblas.so.0, not the JNI glue
                .map(java.util.Map.Entry::getValue)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("OpenBLAS is not loaded: "
                        + Loader.getLoadedLibraries().keySet()));
        Function f = NativeLibrary.getInstance(path).getFunction("openblas_get_corename");
        return ((String) f.invoke(String.class, new Object[0])).trim();
    }

    /**
     * A one-line note when the kernels come from an {@code OPENBLAS_CORETYPE} this process
     * inherited rather than from the CPU (they may be slower than the CPU allows), else empty.
     */
    public static Optional<String> inheritedPinNote() {
        String pinned = System.getenv(ENV);
        if (pinned == null || pinned.isBlank() || coreTypeFor(System.getProperty(PROPERTY, "inherit")) != null) {
            return Optional.empty();
        }
        return Optional.of("OpenBLAS runs the " + pinned + " kernels because the environment sets " + ENV + "="
                + pinned + "; -D" + PROPERTY + "=detect (in FLORA_JAVA_OPTS) lets OpenBLAS choose from the CPU");
    }

    /** Sets {@code OPENBLAS_CORETYPE} in this process's environment, or removes it (""). */
    private static void setenv(String value) {
        if (value.isEmpty()) {
            Libc.unsetenv(ENV);
        } else {
            Libc.setenv(ENV, value);
        }
    }
}
