package dev.flora.engine.reference;

import org.apache.commons.math3.special.Erf;

/**
 * Double-precision reference implementations of every op, written as plainly as possible
 * (no tricks shared with the engine). Finite differences of these are the gradient oracle;
 * their outputs are the forward oracle. Matrices are row-major double arrays.
 */
public final class Ref {
    private Ref() {
    }

    /** y [rows, out] = x [rows, in] · Wᵀ + b. */
    public static double[] linear(double[] x, double[] w, double[] b, int rows, int in, int out) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * w[o * in + i];
                }
                y[r * out + o] = s;
            }
        }
        return y;
    }

    /**
     * C = alpha·op(A)·op(B) + beta·C on row-major matrices at offsets with leading dimensions,
     * as BLAS defines it: returns a copy of {@code c} with its [m, n] block at {@code cOff}
     * replaced, everything else (the padding past n of each row) as it was.
     */
    public static double[] gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, float[] a,
                                int aOff, int lda, float[] b, int bOff, int ldb, double beta, float[] c, int cOff,
                                int ldc) {
        double[] out = new double[c.length];
        for (int i = 0; i < c.length; i++) {
            out[i] = c[i];
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int l = 0; l < k; l++) {
                    double x = transA ? a[aOff + l * lda + i] : a[aOff + i * lda + l];
                    double y = transB ? b[bOff + j * ldb + l] : b[bOff + l * ldb + j];
                    s += x * y;
                }
                int at = cOff + i * ldc + j;
                out[at] = alpha * s + beta * c[at];
            }
        }
        return out;
    }

    /** Low-rank linear at rank r: (x · VT[:r]ᵀ) · U[:, :r]ᵀ + b with VT [R, in], U [out, R]. */
    public static double[] lowRankLinear(double[] x, double[] vt, double[] u, double[] b, int rows, int in, int out,
                                         int maxRank, int r) {
        double[] h = new double[rows * r];
        for (int row = 0; row < rows; row++) {
            for (int k = 0; k < r; k++) {
                double s = 0;
                for (int i = 0; i < in; i++) {
                    s += x[row * in + i] * vt[k * in + i];
                }
                h[row * r + k] = s;
            }
        }
        double[] y = new double[rows * out];
        for (int row = 0; row < rows; row++) {
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int k = 0; k < r; k++) {
                    s += h[row * r + k] * u[o * maxRank + k];
                }
                y[row * out + o] = s;
            }
        }
        return y;
    }

    public static double[] layerNorm(double[] x, double[] g, double[] b, int rows, int cols, double eps) {
        double[] y = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int j = 0; j < cols; j++) {
                mean += x[r * cols + j];
            }
            mean /= cols;
            double var = 0;
            for (int j = 0; j < cols; j++) {
                double d = x[r * cols + j] - mean;
                var += d * d;
            }
            var /= cols;
            double rs = 1 / Math.sqrt(var + eps);
            for (int j = 0; j < cols; j++) {
                y[r * cols + j] = (x[r * cols + j] - mean) * rs * g[j] + b[j];
            }
        }
        return y;
    }

    public static double[] gelu(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = 0.5 * x[i] * (1 + Erf.erf(x[i] / Math.sqrt(2)));
        }
        return y;
    }

    /** g[i] · GELU'(x[i]) = g[i] · (Φ(x) + x·φ(x)), in double. */
    public static double[] geluGradient(double[] x, double[] g) {
        double[] dx = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double cdf = 0.5 * (1 + Erf.erf(x[i] / Math.sqrt(2)));
            double pdf = Math.exp(-0.5 * x[i] * x[i]) / Math.sqrt(2 * Math.PI);
            dx[i] = g[i] * (cdf + x[i] * pdf);
        }
        return dx;
    }

    public static double[] softmaxRows(double[] s, int rows, int cols) {
        double[] p = new double[s.length];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) {
                max = Math.max(max, s[r * cols + j]);
            }
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                p[r * cols + j] = Math.exp(s[r * cols + j] - max);
                sum += p[r * cols + j];
            }
            for (int j = 0; j < cols; j++) {
                p[r * cols + j] /= sum;
            }
        }
        return p;
    }

    /**
     * Attention core on qkv [B·T, 3C] (timm layout: q, k, v blocks, heads within each):
     * returns context [B·T, C] = concat_h softmax(q_h k_hᵀ / sqrt(d)) v_h.
     */
    public static double[] attentionCore(double[] qkv, int batch, int tokens, int dim, int heads) {
        int d = dim / heads;
        double scale = 1 / Math.sqrt(d);
        double[] ctx = new double[batch * tokens * dim];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                double[] s = new double[tokens * tokens];
                for (int i = 0; i < tokens; i++) {
                    for (int j = 0; j < tokens; j++) {
                        double acc = 0;
                        for (int e = 0; e < d; e++) {
                            acc += qkv[(b * tokens + i) * 3 * dim + h * d + e]
                                    * qkv[(b * tokens + j) * 3 * dim + dim + h * d + e];
                        }
                        s[i * tokens + j] = acc * scale;
                    }
                }
                double[] p = softmaxRows(s, tokens, tokens);
                for (int i = 0; i < tokens; i++) {
                    for (int e = 0; e < d; e++) {
                        double acc = 0;
                        for (int j = 0; j < tokens; j++) {
                            acc += p[i * tokens + j] * qkv[(b * tokens + j) * 3 * dim + 2 * dim + h * d + e];
                        }
                        ctx[(b * tokens + i) * dim + h * d + e] = acc;
                    }
                }
            }
        }
        return ctx;
    }

    /** images [B, C, H, W] to patches [B·N, C·p·p] in (channel, ky, kx) column order. */
    public static double[] unfold(double[] img, int batch, int chans, int size, int p) {
        int g = size / p;
        int len = chans * p * p;
        double[] out = new double[batch * g * g * len];
        for (int b = 0; b < batch; b++) {
            for (int py = 0; py < g; py++) {
                for (int px = 0; px < g; px++) {
                    int row = (b * g + py) * g + px;
                    for (int c = 0; c < chans; c++) {
                        for (int ky = 0; ky < p; ky++) {
                            for (int kx = 0; kx < p; kx++) {
                                out[row * len + (c * p + ky) * p + kx] =
                                        img[((b * chans + c) * size + py * p + ky) * size + px * p + kx];
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Mean cross-entropy with label smoothing over logits [rows, classes]. */
    public static double crossEntropy(double[] z, int[] labels, int rows, int classes, double smoothing) {
        double total = 0;
        for (int r = 0; r < rows; r++) {
            double lse = logSumExp(z, r * classes, classes);
            for (int j = 0; j < classes; j++) {
                double t = smoothing / classes + (j == labels[r] ? 1 - smoothing : 0);
                total += t * (lse - z[r * classes + j]);
            }
        }
        return total / rows;
    }

    /** Mean soft-target cross-entropy: targets are softmax(targetLogits) per row. */
    public static double softTargetCrossEntropy(double[] z, double[] targetLogits, int rows, int classes) {
        double[] t = softmaxRows(targetLogits, rows, classes);
        double total = 0;
        for (int r = 0; r < rows; r++) {
            double lse = logSumExp(z, r * classes, classes);
            for (int j = 0; j < classes; j++) {
                total += t[r * classes + j] * (lse - z[r * classes + j]);
            }
        }
        return total / rows;
    }

    private static double logSumExp(double[] z, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, z[off + j]);
        }
        double s = 0;
        for (int j = 0; j < n; j++) {
            s += Math.exp(z[off + j] - max);
        }
        return max + Math.log(s);
    }

    public static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
