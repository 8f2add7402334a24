package dev.flora.image;

import java.util.Locale;

/** Resampling filters, named as timm and torchvision name them. */
public enum Interpolation {
    NEAREST, BILINEAR, BICUBIC;

    /** The lower-case name timm writes in a model's pretrained config. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Interpolation parse(String s) {
        for (Interpolation v : values()) {
            if (v.key().equals(s.trim().toLowerCase(Locale.ROOT))) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown interpolation '" + s + "' (expected nearest, bilinear or bicubic)");
    }
}
