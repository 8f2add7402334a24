package dev.flora.engine.cpu;

import static dev.flora.engine.reference.TestTensors.gaussian;
import static dev.flora.engine.reference.TestTensors.upload;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;

/**
 * A strided batch of cblas-style problems for comparing backends' {@code gemmStridedBatched}:
 * rows wider than the matrices and gaps between the problems, so that a backend reading past a
 * row or a problem, or writing into the gaps, is caught.
 */
record StridedBatch(boolean transA, boolean transB, int m, int n, int k, float alpha, float beta, int batch) {
    int lda() {
        return (transA ? m : k) + 3;
    }

    int ldb() {
        return (transB ? k : n) + 1;
    }

    int ldc() {
        return n + 2;
    }

    long strideA() {
        return (long) (transA ? k : m) * lda() + 5;
    }

    long strideB() {
        return (long) (transB ? n : k) * ldb() + 7;
    }

    long strideC() {
        return (long) m * ldc() + 4;
    }

    /** Random A, B and C (with their gaps) from three seeds. */
    float[][] operands(long seed) {
        return new float[][] {gaussian((int) (batch * strideA()), seed), gaussian((int) (batch * strideB()), seed + 1),
            gaussian((int) (batch * strideC()), seed + 2)};
    }

    /** C, gaps included, after the batch on this backend from these operands. */
    float[] run(Backend backend, float[] a, float[] b, float[] c) {
        Tensor out = upload(backend, c);
        backend.gemmStridedBatched(transA, transB, m, n, k, alpha, upload(backend, a), lda(), strideA(),
                upload(backend, b), ldb(), strideB(), beta, out, ldc(), strideC(), batch);
        return backend.download(out);
    }
}
