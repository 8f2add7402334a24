package dev.flora.engine.cuda;

import static org.bytedeco.openblas.global.openblas.CblasColMajor;
import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.LAPACK_COL_MAJOR;

import dev.flora.engine.cpu.OpenBlasKernels;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas;

/**
 * A CUDA device on the CPU: kernels run through the emulation of the CUDA execution model
 * (native/emu), device memory is host memory, GEMM is OpenBLAS called under cuBLAS's
 * column-major contract (with cuBLAS's argument checks) and SVD is LAPACK's sgesvd under
 * cuSOLVER's gesvd contract (m ≥ n). Synchronous: every call completes before it returns.
 */
public final class EmulatedDevice implements Device {
    private static final int ALIGN = 256;
    /** Aligned address to the address malloc returned. */
    private final Map<Long, Long> allocations = new ConcurrentHashMap<>();

    public EmulatedDevice() {
        OpenBlasKernels.ensureLoaded();
        EmulatedKernels.ensureLoaded();
    }

    /** Null when the emulated device can run here, else the reason it cannot. */
    public static String unavailableReason() {
        Throwable t = EmulatedKernels.loadError();
        return t == null ? null : t.getMessage();
    }

    @Override
    public String name() {
        return "cuda-emulated";
    }

    @Override
    public long allocate(long bytes) {
        Pointer p = Pointer.calloc(bytes + ALIGN, 1);
        if (p == null || p.isNull()) {
            throw new OutOfMemoryError("emulated device: cannot allocate " + bytes + " bytes");
        }
        long raw = p.address();
        long aligned = (raw + ALIGN - 1) / ALIGN * ALIGN;
        allocations.put(aligned, raw);
        return aligned;
    }

    @Override
    public void free(long address) {
        Long raw = allocations.remove(address);
        if (raw != null) {
            Pointer.free(NativePointers.raw(raw));
        }
    }

    @Override
    public void copyToDevice(float[] src, int srcOffset, long dst, int count) {
        NativePointers.floats(dst).put(src, srcOffset, count);
    }

    @Override
    public void copyToDevice(int[] src, int srcOffset, long dst, int count) {
        NativePointers.ints(dst).put(src, srcOffset, count);
    }

    @Override
    public void copyToDevice(long[] src, int srcOffset, long dst, int count) {
        new org.bytedeco.javacpp.LongPointer(NativePointers.raw(dst)).put(src, srcOffset, count);
    }

    @Override
    public void copyToHost(long src, float[] dst, int dstOffset, int count) {
        NativePointers.floats(src).get(dst, dstOffset, count);
    }

    @Override
    public void copyToHost(long src, int[] dst, int dstOffset, int count) {
        NativePointers.ints(src).get(dst, dstOffset, count);
    }

    @Override
    public void copyToHost(long src, double[] dst, int dstOffset, int count) {
        NativePointers.doubles(src).get(dst, dstOffset, count);
    }

    @Override
    public void copyDeviceToDevice(long dst, long src, long bytes) {
        Pointer.memcpy(NativePointers.raw(dst), NativePointers.raw(src), bytes);
    }

    @Override
    public void launch(String name, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        EmulatedKernels.launch(name, grid.x(), grid.y(), grid.z(), block.x(), block.y(), block.z(), sharedBytes,
                args.words());
    }

    /** The argument checks cublasSgemm makes (CUBLAS_STATUS_INVALID_VALUE). */
    private static void checkGemm(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc) {
        if (m < 0 || n < 0 || k < 0 || lda < Math.max(1, transA ? k : m) || ldb < Math.max(1, transB ? n : k)
                || ldc < Math.max(1, m)) {
            throw new IllegalArgumentException(String.format("cublasSgemm: invalid value (transA %b transB %b m %d "
                    + "n %d k %d lda %d ldb %d ldc %d)", transA, transB, m, n, k, lda, ldb, ldc));
        }
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b,
                     int ldb, float beta, long c, int ldc) {
        checkGemm(transA, transB, m, n, k, lda, ldb, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        openblas.cblas_sgemm(CblasColMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, NativePointers.floats(a), lda, NativePointers.floats(b), ldb, beta,
                NativePointers.floats(c), ldc);
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                                   long strideA, long b, int ldb, long strideB, float beta, long c, int ldc,
                                   long strideC, int batch) {
        checkGemm(transA, transB, m, n, k, lda, ldb, ldc);
        for (int i = 0; i < batch; i++) {
            gemm(transA, transB, m, n, k, alpha, a + 4L * strideA * i, lda, b + 4L * strideB * i, ldb, beta,
                    c + 4L * strideC * i, ldc);
        }
    }

    @Override
    public void gesvd(int m, int n, long a, int lda, long s, long u, int ldu, long vt, int ldvt) {
        if (m < n) {
            throw new IllegalArgumentException("cusolverDnSgesvd supports m >= n only (got " + m + "x" + n + ")");
        }
        FloatPointer superb = new FloatPointer(Math.max(1, Math.min(m, n) - 1));
        int info = openblas.LAPACKE_sgesvd(LAPACK_COL_MAJOR, (byte) 'S', (byte) 'S', m, n, NativePointers.floats(a),
                lda, NativePointers.floats(s), NativePointers.floats(u), ldu, NativePointers.floats(vt), ldvt, superb);
        superb.deallocate();
        if (info != 0) {
            throw new ArithmeticException("gesvd did not converge for a " + m + "x" + n + " matrix (info " + info + ")");
        }
    }

    @Override
    public void synchronize() {
    }

    @Override
    public void close() {
    }
}
