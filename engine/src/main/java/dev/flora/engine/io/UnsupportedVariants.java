package dev.flora.engine.io;

import java.util.List;
import java.util.regex.Pattern;

/**
 * timm ViT variants that flora-j does not implement, each recognised by a tensor it carries (or
 * lacks), so that loading one fails with that tensor and the variant's name rather than as a
 * shape puzzle or a bare "unexpected tensor". Variants without parameters of their own (timm's
 * {@code head_drop}, dropout and drop-path rates) change nothing at inference and load as is.
 */
final class UnsupportedVariants {
    /** A tensor name that only the given variant has. */
    private record Marker(Pattern name, String variant) {
    }

    private static final List<Marker> MARKERS = List.of(
            new Marker(Pattern.compile("blocks\\.\\d+\\.ls[12]\\.gamma"),
                    "LayerScale (timm's init_values, as in DeiT III)"),
            new Marker(Pattern.compile("reg_token"), "register tokens (timm's reg_tokens)"),
            new Marker(Pattern.compile("fc_norm\\..+"), "a norm after global pooling (timm's fc_norm)"),
            new Marker(Pattern.compile("norm_pre\\..+"), "a norm before the blocks (timm's pre_norm, CLIP-style)"),
            new Marker(Pattern.compile("attn_pool\\..+"), "attention pooling (timm's global_pool='map')"),
            new Marker(Pattern.compile("blocks\\.\\d+\\.attn\\.[qk]_norm\\..+"), "query/key norms (timm's qk_norm)"),
            new Marker(Pattern.compile("blocks\\.\\d+\\.attn\\.norm\\..+"),
                    "a norm inside attention (timm's scale_attn_norm)"),
            new Marker(Pattern.compile("blocks\\.\\d+\\.mlp\\.norm\\..+"), "a norm inside the MLP (timm's scale_mlp_norm)"),
            new Marker(Pattern.compile("blocks\\.\\d+\\.mlp\\.fc1_[gx]\\..+"), "a gated MLP (SwiGLU)"));

    private UnsupportedVariants() {
    }

    /** Throws a {@link FormatException} naming the first tensor of {@code file} that marks an unsupported variant. */
    static void check(SafeTensors file) {
        for (String name : file.entries().keySet()) {
            if (name.startsWith(ModelIO.OPTIMIZER_PREFIX)) {
                continue;
            }
            for (Marker m : MARKERS) {
                if (m.name().matcher(name).matches()) {
                    throw new FormatException(file.path() + ": tensor " + name + " belongs to " + m.variant()
                            + ", which flora-j does not support");
                }
            }
        }
        if (!file.contains("cls_token")) {
            throw new FormatException(file.path() + ": no tensor cls_token: a ViT without a class token (timm's "
                    + "class_token=False, average pooling) is not supported");
        }
        if (!file.contains("head.weight")) {
            throw new FormatException(file.path() + ": no tensor head.weight: a ViT without a classifier head "
                    + "(timm's num_classes=0) is not supported");
        }
    }
}
