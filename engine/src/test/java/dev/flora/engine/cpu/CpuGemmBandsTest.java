package dev.flora.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.engine.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * GEMMs between the caller-only and the pool sizes are split in two bands (rows or 16-aligned
 * columns) with the spinning helper; the bands must cover C exactly once, in every transpose.
 */
class CpuGemmBandsTest {
    private final CpuBackend cpu = new CpuBackend();

    @Test
    void splitGemmsMatchADoubleReference() {
        // 50x200x130: column bands (n > m), 200 is not a multiple of 32; 300x70x120: row bands
        int[][] shapes = {{50, 200, 130}, {300, 70, 120}, {50, 512, 128}};
        for (int[] s : shapes) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    check(s[0], s[1], s[2], ta, tb);
                }
            }
        }
    }

    private void check(int m, int n, int k, boolean ta, boolean tb) {
        Random r = new Random(m * 31L + n);
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        float[] c = new float[m * n];
        for (float[] v : new float[][] {a, b, c}) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextGaussian();
            }
        }
        int lda = ta ? m : k;
        int ldb = tb ? k : n;
        Tensor at = cpu.allocate(a.length);
        Tensor bt = cpu.allocate(b.length);
        Tensor ct = cpu.allocate(c.length);
        cpu.upload(a, 0, at);
        cpu.upload(b, 0, bt);
        cpu.upload(c, 0, ct);
        cpu.gemm(ta, tb, m, n, k, 0.5f, at, lda, bt, ldb, 2f, ct, n);
        float[] got = cpu.download(ct);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                double mag = 0;
                for (int p = 0; p < k; p++) {
                    double x = ta ? a[p * lda + i] : a[i * lda + p];
                    double y = tb ? b[j * ldb + p] : b[p * ldb + j];
                    acc += x * y;
                    mag += Math.abs(x * y);
                }
                double want = 0.5 * acc + 2.0 * c[i * n + j];
                double err = Math.abs(got[i * n + j] - want);
                assertTrue(err <= 1e-5 * (0.5 * mag + 2 * Math.abs(c[i * n + j])) + 1e-6,
                        m + "x" + n + "x" + k + " " + ta + tb + " at (" + i + "," + j + "): " + got[i * n + j]
                                + " vs " + want);
            }
        }
    }
}
