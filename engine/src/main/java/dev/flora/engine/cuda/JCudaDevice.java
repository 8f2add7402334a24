package dev.flora.engine.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceComputeCapability;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cusolver.cusolverDnContext;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cusolver;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;

/**
 * The real GPU: JCuda's driver API for the context, memory, module loading and kernel launches
 * (the sm_90 cubins of kernels/*.cu on a compute-capability 9.0 device, their PTX, JIT-compiled,
 * elsewhere), cuBLAS and cuSOLVER from JavaCPP's CUDA presets. Everything runs on the default
 * stream in the device's primary context, so kernels, GEMMs and SVDs execute in call order.
 *
 * <p>Not run yet: no GPU has been available to this project. It compiles, and the code above
 * the {@link Device} interface is exercised on {@link EmulatedDevice}.
 */
public final class JCudaDevice implements Device {
    static final String MODULE_DIR = "/dev/flora/engine/cuda/kernels/";
    private static final String[] MODULES = {"adamw", "elementwise", "gelu", "layernorm", "loss", "lowrank", "patch",
        "softmax"};
    /** The fused low-rank kernels may ask for more than the default 48 KB of shared memory. */
    private static final int MAX_DYNAMIC_SHARED = 200 * 1024;

    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final String label;
    private final Map<String, CUfunction> functions = new ConcurrentHashMap<>();
    private final Map<Long, CUdeviceptr> allocations = new ConcurrentHashMap<>();
    private final cublasContext cublasHandle = new cublasContext();
    private final cusolverDnContext solver = new cusolverDnContext();

    public JCudaDevice(int ordinal) {
        JCudaDriver.setExceptionsEnabled(true);
        cuInit(0);
        cuDeviceGet(device, ordinal);
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        int[] major = new int[1];
        int[] minor = new int[1];
        cuDeviceComputeCapability(major, minor, device);
        this.label = new String(name).trim() + " (sm_" + major[0] + minor[0] + ")";
        for (String module : MODULES) {
            loadModule(module, major[0] == 9 && minor[0] == 0);
        }
        check(cublas.cublasCreate_v2(cublasHandle), "cublasCreate");
        check(cusolver.cusolverDnCreate(solver), "cusolverDnCreate");
    }

    /** Null when a CUDA device is usable here, else the reason it is not. */
    public static String unavailableReason() {
        if (!NativePointers.jcudaUsable()) {
            return "JCuda is not on the classpath";
        }
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (count[0] == 0) {
                return "the CUDA driver reports no device";
            }
            if (JCudaDevice.class.getResource(MODULE_DIR + "elementwise.ptx") == null) {
                return "this build has no compiled kernels (nvcc was not found when it was built)";
            }
            return null;
        } catch (Throwable t) {
            return "no CUDA driver (" + firstLine(t) + ")";
        }
    }

    /** The gist of a native-library failure: JCuda's messages run to dozens of lines. */
    private static String firstLine(Throwable t) {
        String m = String.valueOf(t.getMessage());
        java.util.regex.Matcher so = java.util.regex.Pattern.compile("(lib[\\w.]+\\.so[\\w.]*): cannot open shared "
                + "object file").matcher(m);
        if (so.find()) {
            return so.group(1) + " not found";
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private void loadModule(String module, boolean cubin) {
        String resource = MODULE_DIR + module + (cubin ? ".sm_90.cubin" : ".ptx");
        byte[] image;
        try (InputStream in = JCudaDevice.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("kernel module " + resource + " is missing from this build");
            }
            image = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
        if (!cubin) {
            image = java.util.Arrays.copyOf(image, image.length + 1); // PTX is a NUL-terminated string
        }
        CUmodule m = new CUmodule();
        cuModuleLoadData(m, image);
        for (String name : kernelNames(module)) {
            CUfunction f = new CUfunction();
            cuModuleGetFunction(f, m, name);
            cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                    MAX_DYNAMIC_SHARED);
            functions.put(name, f);
        }
    }

    /** The kernels of a module, as listed next to it by the build (module.kernels). */
    private static List<String> kernelNames(String module) {
        String resource = MODULE_DIR + module + ".kernels";
        try (InputStream in = JCudaDevice.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is missing from this build");
            }
            List<String> names = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) {
                    names.add(line.trim());
                }
            }
            return names;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
    }

    private static void check(int status, String call) {
        if (status != 0) {
            throw new IllegalStateException(call + " failed with status " + status);
        }
    }

    @Override
    public String name() {
        return "cuda " + label;
    }

    @Override
    public long allocate(long bytes) {
        CUdeviceptr p = new CUdeviceptr();
        cuMemAlloc(p, Math.max(bytes, 1));
        long address = NativePointers.address(p);
        allocations.put(address, p);
        return address;
    }

    @Override
    public void free(long address) {
        CUdeviceptr p = allocations.remove(address);
        if (p != null) {
            cuCtxSetCurrent(context); // frees arrive from the cleaner's thread
            cuMemFree(p);
        }
    }

    @Override
    public void copyToDevice(float[] src, int srcOffset, long dst, int count) {
        cuMemcpyHtoD(NativePointers.deviceptr(dst), Pointer.to(src).withByteOffset(4L * srcOffset), 4L * count);
    }

    @Override
    public void copyToDevice(int[] src, int srcOffset, long dst, int count) {
        cuMemcpyHtoD(NativePointers.deviceptr(dst), Pointer.to(src).withByteOffset(4L * srcOffset), 4L * count);
    }

    @Override
    public void copyToDevice(long[] src, int srcOffset, long dst, int count) {
        cuMemcpyHtoD(NativePointers.deviceptr(dst), Pointer.to(src).withByteOffset(8L * srcOffset), 8L * count);
    }

    @Override
    public void copyToHost(long src, float[] dst, int dstOffset, int count) {
        cuMemcpyDtoH(Pointer.to(dst).withByteOffset(4L * dstOffset), NativePointers.deviceptr(src), 4L * count);
    }

    @Override
    public void copyToHost(long src, int[] dst, int dstOffset, int count) {
        cuMemcpyDtoH(Pointer.to(dst).withByteOffset(4L * dstOffset), NativePointers.deviceptr(src), 4L * count);
    }

    @Override
    public void copyToHost(long src, double[] dst, int dstOffset, int count) {
        cuMemcpyDtoH(Pointer.to(dst).withByteOffset(8L * dstOffset), NativePointers.deviceptr(src), 8L * count);
    }

    @Override
    public void copyDeviceToDevice(long dst, long src, long bytes) {
        cuMemcpyDtoD(NativePointers.deviceptr(dst), NativePointers.deviceptr(src), bytes);
    }

    @Override
    public void launch(String name, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        CUfunction f = functions.get(name);
        if (f == null) {
            throw new IllegalArgumentException("no kernel named " + name);
        }
        Pointer[] params = new Pointer[args.size()];
        for (int i = 0; i < args.size(); i++) {
            long v = args.bits(i);
            params[i] = switch (args.kind(i)) {
                case POINTER, I64 -> Pointer.to(new long[] {v});
                case I32 -> Pointer.to(new int[] {(int) v});
                case F32 -> Pointer.to(new int[] {(int) v});
            };
        }
        cuLaunchKernel(f, grid.x(), grid.y(), grid.z(), block.x(), block.y(), block.z(), sharedBytes, null,
                Pointer.to(params), null);
    }

    private static int op(boolean trans) {
        return trans ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N;
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b,
                     int ldb, float beta, long c, int ldc) {
        check(cublas.cublasSgemm_v2(cublasHandle, op(transA), op(transB), m, n, k, new FloatPointer(alpha),
                NativePointers.floats(a), lda, NativePointers.floats(b), ldb, new FloatPointer(beta),
                NativePointers.floats(c), ldc), "cublasSgemm");
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                                   long strideA, long b, int ldb, long strideB, float beta, long c, int ldc,
                                   long strideC, int batch) {
        check(cublas.cublasSgemmStridedBatched(cublasHandle, op(transA), op(transB), m, n, k, new FloatPointer(alpha),
                NativePointers.floats(a), lda, strideA, NativePointers.floats(b), ldb, strideB, new FloatPointer(beta),
                NativePointers.floats(c), ldc, strideC, batch), "cublasSgemmStridedBatched");
    }

    @Override
    public void gesvd(int m, int n, long a, int lda, long s, long u, int ldu, long vt, int ldvt) {
        IntPointer lwork = new IntPointer(1);
        check(cusolver.cusolverDnSgesvd_bufferSize(solver, m, n, lwork), "cusolverDnSgesvd_bufferSize");
        long work = allocate(4L * lwork.get());
        long info = allocate(4);
        try {
            check(cusolver.cusolverDnSgesvd(solver, (byte) 'S', (byte) 'S', m, n, NativePointers.floats(a), lda,
                    NativePointers.floats(s), NativePointers.floats(u), ldu, NativePointers.floats(vt), ldvt,
                    NativePointers.floats(work), lwork.get(), null, NativePointers.ints(info)), "cusolverDnSgesvd");
            int[] status = new int[1];
            copyToHost(info, status, 0, 1);
            if (status[0] != 0) {
                throw new ArithmeticException("gesvd did not converge for a " + m + "x" + n + " matrix (info "
                        + status[0] + ")");
            }
        } finally {
            free(work);
            free(info);
        }
    }

    @Override
    public void synchronize() {
        cuCtxSynchronize();
    }

    @Override
    public void close() {
        cublas.cublasDestroy_v2(cublasHandle);
        cusolver.cusolverDnDestroy(solver);
        cuDevicePrimaryCtxRelease(device);
    }
}
