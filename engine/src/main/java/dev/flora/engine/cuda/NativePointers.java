package dev.flora.engine.cuda;

import java.lang.reflect.Field;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The one place where raw device addresses become objects of the two native bindings: JavaCPP
 * pointers (OpenBLAS and LAPACK on the emulated device, cuBLAS and cuSOLVER on the GPU) and
 * JCuda pointers (the driver API). Everything else passes plain {@code long} addresses.
 */
final class NativePointers {
    private static final long UNBOUNDED = Long.MAX_VALUE / 8;

    private NativePointers() {
    }

    static FloatPointer floats(long at) {
        return new FloatPointer() {
            {
                this.address = at; // not `address`: inside the body that names the inherited field
                this.limit = UNBOUNDED;
                this.capacity = UNBOUNDED;
            }
        };
    }

    static IntPointer ints(long at) {
        return new IntPointer() {
            {
                this.address = at; // not `address`: inside the body that names the inherited field
                this.limit = UNBOUNDED;
                this.capacity = UNBOUNDED;
            }
        };
    }

    static DoublePointer doubles(long at) {
        return new DoublePointer() {
            {
                this.address = at; // not `address`: inside the body that names the inherited field
                this.limit = UNBOUNDED;
                this.capacity = UNBOUNDED;
            }
        };
    }

    static Pointer raw(long at) {
        return new Pointer() {
            {
                this.address = at; // not `address`: inside the body that names the inherited field
                this.limit = UNBOUNDED;
                this.capacity = UNBOUNDED;
            }
        };
    }

    // ---- JCuda: its pointers keep the address in NativePointerObject.nativePointer plus an offset

    private static final Field NATIVE_POINTER;
    private static final Field BYTE_OFFSET;

    static {
        Field np = null;
        Field off = null;
        try {
            Class<?> npo = Class.forName("jcuda.NativePointerObject");
            np = npo.getDeclaredField("nativePointer");
            np.setAccessible(true);
            off = Class.forName("jcuda.Pointer").getDeclaredField("byteOffset");
            off.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // JCuda missing or changed: the real device reports itself unavailable
        }
        NATIVE_POINTER = np;
        BYTE_OFFSET = off;
    }

    static boolean jcudaUsable() {
        return NATIVE_POINTER != null && BYTE_OFFSET != null;
    }

    /** The device address a JCuda pointer stands for. */
    static long address(jcuda.Pointer p) {
        try {
            return NATIVE_POINTER.getLong(p) + BYTE_OFFSET.getLong(p);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A JCuda device pointer for a raw address. */
    static jcuda.driver.CUdeviceptr deviceptr(long address) {
        jcuda.driver.CUdeviceptr p = new jcuda.driver.CUdeviceptr();
        try {
            NATIVE_POINTER.setLong(p, address);
            BYTE_OFFSET.setLong(p, 0);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        return p;
    }
}
