package dev.flora.engine.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The kernels of kernels/*.cu compiled for the CPU against native/emu/cuda_emu.h, in the native
 * library the Maven build packs into the engine jar (native/build.sh). Loaded on first use.
 */
final class EmulatedKernels {
    static final String RESOURCE = "/dev/flora/engine/cuda/native/linux-x86_64/libflora_emu.so";
    private static final Throwable LOAD_ERROR = load();

    private EmulatedKernels() {
    }

    private static Throwable load() {
        try {
            String override = System.getProperty("flora.emu.library");
            if (override != null) {
                System.load(Path.of(override).toAbsolutePath().toString());
                return null;
            }
            try (InputStream in = EmulatedKernels.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    return new UnsatisfiedLinkError("the emulated CUDA device's native library " + RESOURCE
                            + " is not on the classpath (it is built by native/build.sh during mvn package)");
                }
                Path tmp = Files.createTempFile("flora_emu", ".so");
                tmp.toFile().deleteOnExit();
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                System.load(tmp.toString());
            }
            return null;
        } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
            return e;
        }
    }

    /** Null when the library loaded, else why not. */
    static Throwable loadError() {
        return LOAD_ERROR;
    }

    static void ensureLoaded() {
        if (LOAD_ERROR != null) {
            throw new IllegalStateException("emulated CUDA device unavailable: " + LOAD_ERROR.getMessage(),
                    LOAD_ERROR);
        }
    }

    static native void launch(String name, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes,
                              long[] args);

    static native String[] names();
}
