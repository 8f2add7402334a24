package dev.flora.engine.cuda;

/**
 * What the CUDA backend needs from a GPU, small enough to have two implementations: the real
 * device ({@link JCudaDevice}: driver API, cuBLAS, cuSOLVER) and {@link EmulatedDevice} (the
 * same kernels built for the CPU, GEMM and SVD from OpenBLAS and LAPACK). Memory is addressed
 * by raw 64-bit device addresses; GEMM and SVD follow cuBLAS's and cuSOLVER's column-major
 * contracts exactly, so every line above this interface is shared by the two devices.
 */
public interface Device extends AutoCloseable {
    String name();

    /** Device memory of at least {@code bytes}, 256-byte aligned. */
    long allocate(long bytes);

    void free(long address);

    void copyToDevice(float[] src, int srcOffset, long dst, int count);

    void copyToDevice(int[] src, int srcOffset, long dst, int count);

    void copyToDevice(long[] src, int srcOffset, long dst, int count);

    void copyToHost(long src, float[] dst, int dstOffset, int count);

    void copyToHost(long src, int[] dst, int dstOffset, int count);

    void copyToHost(long src, double[] dst, int dstOffset, int count);

    void copyDeviceToDevice(long dst, long src, long bytes);

    /** Launches kernel {@code name} (an extern "C" function of kernels/*.cu). */
    void launch(String name, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args);

    /**
     * cublasSgemm: C = alpha·op(A)·op(B) + beta·C, column-major, op(A) m×k, op(B) k×n, C m×n, with
     * leading dimensions lda, ldb, ldc (elements between columns).
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb,
              float beta, long c, int ldc);

    /** cublasSgemmStridedBatched: {@link #gemm} for {@code batch} problems, strides in elements. */
    void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                            long strideA, long b, int ldb, long strideB, float beta, long c, int ldc, long strideC,
                            int batch);

    /**
     * cusolverDnSgesvd with jobu = jobvt = 'S': A = U·diag(s)·VT for column-major A [m, n] (lda),
     * m ≥ n as cuSOLVER requires; A is destroyed; U [m, n] (ldu), s [n] descending, VT [n, n] (ldvt).
     */
    void gesvd(int m, int n, long a, int lda, long s, long u, int ldu, long vt, int ldvt);

    /** Waits for all queued work. */
    void synchronize();

    @Override
    void close();
}
