package dev.flora.engine.reference;

import dev.flora.engine.nn.ViTConfig;
import java.util.Map;

/**
 * The whole ViT forward in double precision over named parameters (timm names; a module with
 * {@code .VT.weight} is low-rank at the rank given in {@code ranks}), distilled DeiT included
 * (tokens [cls, dist, patches], logits the mean of head(cls) and head_dist(dist)). Independent of the
 * engine's layers: the oracle for whole-model gradient checks.
 */
public final class RefViT {
    private final ViTConfig c;
    private final Map<String, double[]> p;
    private final Map<String, Integer> ranks;

    public RefViT(ViTConfig config, Map<String, double[]> params, Map<String, Integer> ranks) {
        this.c = config;
        this.p = params;
        this.ranks = ranks;
    }

    /** images [B, C, H, W] (normalized) to logits [B, classes]. */
    public double[] logits(double[] images, int batch) {
        int dim = c.embedDim();
        int n = c.numPatches();
        int t = c.tokens();
        int patchLen = c.inChans() * c.patchSize() * c.patchSize();
        double[] patches = Ref.unfold(images, batch, c.inChans(), c.imgSize(), c.patchSize());
        double[] emb = Ref.linear(patches, p.get("patch_embed.proj.weight"), p.get("patch_embed.proj.bias"),
                batch * n, patchLen, dim);
        double[] pos = p.get("pos_embed");
        int prefix = c.distilled() ? 2 : 1;
        double[][] lead = c.distilled() ? new double[][] {p.get("cls_token"), p.get("dist_token")}
                : new double[][] {p.get("cls_token")};
        double[] x = new double[batch * t * dim];
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < prefix; k++) {
                for (int j = 0; j < dim; j++) {
                    x[(b * t + k) * dim + j] = lead[k][j] + pos[k * dim + j];
                }
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < dim; j++) {
                    x[(b * t + prefix + i) * dim + j] = emb[(b * n + i) * dim + j] + pos[(prefix + i) * dim + j];
                }
            }
        }
        int rows = batch * t;
        for (int blk = 0; blk < c.depth(); blk++) {
            String pre = "blocks." + blk;
            double[] a = Ref.layerNorm(x, p.get(pre + ".norm1.weight"), p.get(pre + ".norm1.bias"), rows, dim, 1e-6);
            double[] qkv = linear(pre + ".attn.qkv", a, rows, dim, 3 * dim);
            double[] ctx = Ref.attentionCore(qkv, batch, t, dim, c.numHeads());
            double[] att = linear(pre + ".attn.proj", ctx, rows, dim, dim);
            for (int i = 0; i < x.length; i++) {
                x[i] += att[i];
            }
            double[] m = Ref.layerNorm(x, p.get(pre + ".norm2.weight"), p.get(pre + ".norm2.bias"), rows, dim, 1e-6);
            double[] h = Ref.gelu(linear(pre + ".mlp.fc1", m, rows, dim, c.mlpHidden()));
            double[] out = linear(pre + ".mlp.fc2", h, rows, c.mlpHidden(), dim);
            for (int i = 0; i < x.length; i++) {
                x[i] += out[i];
            }
        }
        double[] normed = Ref.layerNorm(x, p.get("norm.weight"), p.get("norm.bias"), rows, dim, 1e-6);
        double[] logits = Ref.linear(tokenRows(normed, 0, batch), p.get("head.weight"), p.get("head.bias"), batch,
                dim, c.numClasses());
        if (c.distilled()) {
            double[] dist = Ref.linear(tokenRows(normed, 1, batch), p.get("head_dist.weight"),
                    p.get("head_dist.bias"), batch, dim, c.numClasses());
            for (int i = 0; i < logits.length; i++) {
                logits[i] = (logits[i] + dist[i]) / 2;
            }
        }
        return logits;
    }

    /** Row {@code token} of every image of x [B, T, C], as [B, C]. */
    private double[] tokenRows(double[] x, int token, int batch) {
        int dim = c.embedDim();
        double[] out = new double[batch * dim];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(x, (b * c.tokens() + token) * dim, out, b * dim, dim);
        }
        return out;
    }

    private double[] linear(String path, double[] x, int rows, int in, int out) {
        if (p.containsKey(path + ".VT.weight")) {
            double[] vt = p.get(path + ".VT.weight");
            int maxRank = vt.length / in;
            return Ref.lowRankLinear(x, vt, p.get(path + ".U.weight"), p.get(path + ".U.bias"), rows, in, out, maxRank,
                    ranks.getOrDefault(path, maxRank));
        }
        return Ref.linear(x, p.get(path + ".weight"), p.get(path + ".bias"), rows, in, out);
    }
}
