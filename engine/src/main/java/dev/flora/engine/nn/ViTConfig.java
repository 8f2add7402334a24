package dev.flora.engine.nn;

import java.util.Arrays;

/**
 * Hyper-parameters of a timm/DeiT-style ViT. {@code inputMean}/{@code inputStd} give the
 * per-channel normalization the model was trained with (in units of pixel/255). A
 * {@code distilled} model is timm's {@code VisionTransformerDistilled} (DeiT with a
 * distillation token after the class token and a second head on it).
 */
public record ViTConfig(int imgSize, int patchSize, int inChans, int embedDim, int depth, int numHeads,
                        double mlpRatio, int numClasses, double[] inputMean, double[] inputStd,
                        boolean distilled) {

    public ViTConfig {
        require(imgSize > 0, "img_size must be positive, got " + imgSize);
        require(patchSize > 0 && imgSize % patchSize == 0,
                "patch_size " + patchSize + " must divide img_size " + imgSize);
        require(inChans > 0, "in_chans must be positive, got " + inChans);
        require(embedDim > 0, "embed_dim must be positive, got " + embedDim);
        require(depth > 0, "depth must be positive, got " + depth);
        require(numHeads > 0 && embedDim % numHeads == 0,
                "num_heads " + numHeads + " must divide embed_dim " + embedDim);
        require(mlpRatio > 0, "mlp_ratio must be positive, got " + mlpRatio);
        require(numClasses > 0, "num_classes must be positive, got " + numClasses);
        require(inputMean.length == inChans && inputStd.length == inChans,
                "input_mean and input_std need " + inChans + " values");
        inputMean = inputMean.clone();
        inputStd = inputStd.clone();
    }

    /** A ViT with a class token only (not distilled). */
    public ViTConfig(int imgSize, int patchSize, int inChans, int embedDim, int depth, int numHeads,
                     double mlpRatio, int numClasses, double[] inputMean, double[] inputStd) {
        this(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, numClasses, inputMean, inputStd,
                false);
    }

    /** This config with a distillation token and head ({@code true}) or without. */
    public ViTConfig withDistilled(boolean distilled) {
        return new ViTConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, numClasses, inputMean,
                inputStd, distilled);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** The bundled Fashion-MNIST backbone (DESIGN.md): 28x28x1, patch 4, 128 wide, 6 deep, 4 heads. */
    public static ViTConfig vitFmnist() {
        return new ViTConfig(28, 4, 1, 128, 6, 4, 4.0, 10, new double[] {0.2860}, new double[] {0.3530});
    }

    private static final double[] IMAGENET_MEAN = {0.485, 0.456, 0.406};
    private static final double[] IMAGENET_STD = {0.229, 0.224, 0.225};

    public static ViTConfig deitTiny() {
        return new ViTConfig(224, 16, 3, 192, 12, 3, 4.0, 1000, IMAGENET_MEAN, IMAGENET_STD);
    }

    public static ViTConfig deitSmall() {
        return new ViTConfig(224, 16, 3, 384, 12, 6, 4.0, 1000, IMAGENET_MEAN, IMAGENET_STD);
    }

    public static ViTConfig deitBase() {
        return new ViTConfig(224, 16, 3, 768, 12, 12, 4.0, 1000, IMAGENET_MEAN, IMAGENET_STD);
    }

    @Override
    public double[] inputMean() {
        return inputMean.clone();
    }

    @Override
    public double[] inputStd() {
        return inputStd.clone();
    }

    public int gridSize() {
        return imgSize / patchSize;
    }

    public int numPatches() {
        return gridSize() * gridSize();
    }

    /** Tokens before the patches, timm's {@code num_prefix_tokens}: the class token, and the distillation token. */
    public int prefixTokens() {
        return distilled ? 2 : 1;
    }

    /** Patches plus the prefix tokens. */
    public int tokens() {
        return numPatches() + prefixTokens();
    }

    public int mlpHidden() {
        return (int) Math.round(embedDim * mlpRatio);
    }

    public int headDim() {
        return embedDim / numHeads;
    }

    /** Floats in one input image. */
    public int imageSize() {
        return inChans * imgSize * imgSize;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ViTConfig c && imgSize == c.imgSize && patchSize == c.patchSize && inChans == c.inChans
                && embedDim == c.embedDim && depth == c.depth && numHeads == c.numHeads && mlpRatio == c.mlpRatio
                && numClasses == c.numClasses && Arrays.equals(inputMean, c.inputMean)
                && Arrays.equals(inputStd, c.inputStd) && distilled == c.distilled;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new double[] {imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio,
            numClasses}) * 31 + Arrays.hashCode(inputMean) + (distilled ? 1 : 0);
    }

    @Override
    public String toString() {
        return "ViT(img " + imgSize + ", patch " + patchSize + ", in " + inChans + ", dim " + embedDim + ", depth "
                + depth + ", heads " + numHeads + ", mlp " + mlpRatio + ", classes " + numClasses
                + (distilled ? ", distilled" : "") + ")";
    }
}
