package dev.flora.bench.gpu;

import dev.flora.engine.nn.ViTConfig;
import java.util.List;

/** The low-rank target modules of a ViT, as (name, in, out) of one block. */
record ModelShapes(String model, ViTConfig config) {
    record Module(String name, int in, int out) {
    }

    static ModelShapes of(String model) {
        return switch (model) {
            case "deit-t" -> new ModelShapes(model, ViTConfig.deitTiny());
            case "deit-s" -> new ModelShapes(model, ViTConfig.deitSmall());
            case "deit-b" -> new ModelShapes(model, ViTConfig.deitBase());
            case "vit-fmnist" -> new ModelShapes(model, ViTConfig.vitFmnist());
            default -> throw new IllegalArgumentException(
                    "model " + model + ": expected deit-t, deit-s, deit-b or vit-fmnist");
        };
    }

    List<Module> blockTargets() {
        int d = config.embedDim();
        int hidden = config.mlpHidden();
        return List.of(new Module("attn.qkv", d, 3 * d), new Module("mlp.fc1", d, hidden),
                new Module("mlp.fc2", hidden, d));
    }
}
