package dev.flora.engine.cpu;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.Loader;

/**
 * How many OpenMP threads oneDNN's primitives use when the calling thread runs them. oneDNN
 * (JavaCPP's build) runs on the libgomp it ships with; the thread count is a per-thread OpenMP
 * setting, so each of our threads says what its next products may use. Where that libgomp
 * cannot be found, nothing is set and oneDNN keeps its own count: slower, never wrong.
 */
final class OpenMpThreads {
    /** oneDNN's libgomp, or null where it is not beside oneDNN's JNI library. */
    private static final NativeLibrary GOMP = libgomp();
    private static final Function SET_NUM_THREADS = find("omp_set_num_threads");
    private static final Function GET_MAX_THREADS = find("omp_get_max_threads");
    /** OpenMP's count for a thread that never set one (OMP_NUM_THREADS, else the cores). */
    static final int DEFAULT = current();
    /** What this thread last set; 0 before it set anything, which is {@link #DEFAULT}. */
    private static final ThreadLocal<int[]> CURRENT = ThreadLocal.withInitial(() -> new int[1]);

    private OpenMpThreads() {
    }

    /** The calling thread's next oneDNN products run on {@code n} OpenMP threads. */
    static void use(int n) {
        int[] current = CURRENT.get();
        int now = current[0] == 0 ? DEFAULT : current[0];
        if (now != n && SET_NUM_THREADS != null) {
            SET_NUM_THREADS.invoke(new Object[] {n});
            current[0] = n;
        }
    }

    /** Whether {@link #use} can change the count here. */
    static boolean available() {
        return SET_NUM_THREADS != null;
    }

    /** The count OpenMP would give the calling thread's next parallel region; 0 where unknown. */
    static int current() {
        return GET_MAX_THREADS == null ? 0 : GET_MAX_THREADS.invokeInt(new Object[0]);
    }

    private static Function find(String name) {
        return GOMP == null ? null : GOMP.getFunction(name);
    }

    /**
     * The libgomp beside oneDNN's JNI library, which oneDNN loaded: opening the same file again
     * gives the same library, with its state, not a second OpenMP runtime.
     */
    private static NativeLibrary libgomp() {
        OneDnn.engine(); // oneDNN's first use sets the environment libgomp reads when it loads
        String jni = Loader.load(org.bytedeco.dnnl.global.dnnl.class);
        if (jni == null) {
            return null;
        }
        Path gomp = Path.of(jni).resolveSibling("libgomp.so.1");
        return Files.isRegularFile(gomp) ? NativeLibrary.getInstance(gomp.toString()) : null;
    }
}
