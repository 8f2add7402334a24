package dev.flora.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.config.Configs;
import dev.flora.config.TrainConfig;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.io.FormatException;
import dev.flora.engine.io.SafeTensors;
import dev.flora.engine.io.TensorData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    @TempDir
    Path dir;

    /** A one-block ViT on 2048 bundled images: about a second per epoch. */
    static TrainConfig tiny(int epochs) {
        return Configs.merge(TrainConfig.class, TrainConfig.defaults(), "test", Configs.layer(map(
                "data", "fmnist-subset",
                "shape", map("embed_dim", 32, "depth", 1, "num_heads", 2, "patch_size", 7, "mlp_ratio", 2.0),
                "loop", map("epochs", epochs, "batch_size", 64, "train_limit", 2048, "warmup_epochs", 0.5,
                        "lr", 2e-3))));
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private static Trainer trainer(TrainConfig c, Path runDir) {
        return new Trainer(c, runDir, new CpuBackend(), new PrintStream(new ByteArrayOutputStream()));
    }

    @Test
    void resumedRunEndsBitIdenticalToAnUninterruptedOne() throws Exception {
        Path straight = dir.resolve("straight");
        Trainer.Summary a = trainer(tiny(3), straight).run(false);
        Path split = dir.resolve("split");
        Trainer.Summary first = trainer(tiny(3), split).run(false, 1);
        assertNull(first.model(), "no final model after a partial run");
        assertFalse(Files.exists(split.resolve(Trainer.MODEL)));
        assertEquals(1, Checkpoint.readState(split.resolve(Trainer.CHECKPOINT)).epochsDone());
        Trainer.Summary b = trainer(Trainer.savedConfig(split), split).run(true);
        SafeTensors fa = SafeTensors.open(a.model());
        SafeTensors fb = SafeTensors.open(b.model());
        assertEquals(fa.entries().keySet(), fb.entries().keySet());
        for (String name : fa.entries().keySet()) {
            assertArrayEquals(fa.read(name), fb.read(name), name + " differs after resume");
        }
        assertEquals(a.valTop1(), b.valTop1());
        assertEquals(4, Files.readAllLines(split.resolve(Trainer.METRICS)).size(), "header + 3 epochs");
        assertTrue(a.valTop1() > 0.25, "well above chance (0.1) after 96 steps: " + a.valTop1());
    }

    @Test
    void divergenceStopsTrainingAndLeavesTheCheckpointIntact() throws Exception {
        Path run = dir.resolve("run");
        trainer(tiny(3), run).run(false, 1);
        Path cp = run.resolve(Trainer.CHECKPOINT);
        // poison the weights: the next forward pass overflows
        SafeTensors f = SafeTensors.open(cp);
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        for (var e : f.entries().values()) {
            float[] v = f.read(e.name());
            if (e.name().equals("head.weight")) {
                Arrays.fill(v, 3e38f);
            }
            tensors.put(e.name(), new TensorData(e.shape(), v));
        }
        SafeTensors.write(cp, tensors, f.metadata());
        byte[] before = Files.readAllBytes(cp);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                () -> trainer(Trainer.savedConfig(run), run).run(true));
        assertTrue(e.getMessage().contains("epoch 2") && e.getMessage().contains(cp.toString()), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(cp), "checkpoint untouched");
        assertFalse(Files.exists(run.resolve(Trainer.MODEL)));
    }

    @Test
    void initFromStartsAtTheGivenWeights() {
        Trainer.Summary base = trainer(tiny(1), dir.resolve("base")).run(false);
        Map<String, Object> m = map("data", "fmnist-subset", "init_from", base.model().toString(),
                "loop", map("epochs", 1, "batch_size", 64, "train_limit", 128, "lr", 1e-9, "min_lr", 0.0));
        TrainConfig c = Configs.merge(TrainConfig.class, TrainConfig.defaults(), "test", Configs.layer(m));
        Trainer.Summary cont = trainer(c, dir.resolve("cont")).run(false);
        assertEquals(base.valTop1(), cont.valTop1(), 0.002, "a vanishing learning rate keeps the initial model");
    }

    @Test
    void adamBeta2FromAConfigFileReachesTheOptimizer() throws Exception {
        Path file = dir.resolve("beta2.yaml");
        Files.writeString(file, "loop:\n  adam_beta2: 0.5\n");
        TrainConfig c = Configs.merge(TrainConfig.class, tiny(1), "beta2.yaml", Configs.readLayer(file));
        assertEquals(0.5, c.loop().adamBeta2());
        assertEquals(0.999, TrainConfig.defaults().loop().adamBeta2(), "AdamW's usual beta2 by default");
        Trainer.Summary usual = trainer(tiny(1), dir.resolve("usual")).run(false);
        Trainer.Summary fast = trainer(c, dir.resolve("fast")).run(false);
        assertFalse(Arrays.equals(Files.readAllBytes(usual.model()), Files.readAllBytes(fast.model())),
                "a different beta2 trains different weights");
        assertEquals(c, Trainer.savedConfig(dir.resolve("fast")), "the run saves the setting with its config");
    }

    @Test
    void refusesToOverwriteARunWithoutResume() {
        Path run = dir.resolve("run");
        trainer(tiny(2), run).run(false, 1);
        FormatException e = assertThrows(FormatException.class, () -> trainer(tiny(2), run).run(false));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
    }

    @Test
    void configLayersOverrideInOrderAndRejectUnknownKeys() {
        TrainConfig c = Configs.merge(TrainConfig.class, TrainConfig.defaults(), "t",
                Configs.layer(Map.of("loop", Map.of("lr", 0.5, "epochs", 3))),
                Configs.layer(Map.of("loop", Map.of("lr", 0.25))));
        assertEquals(0.25, c.loop().lr());
        assertEquals(3, c.loop().epochs());
        assertEquals(128, c.loop().batchSize());
        FormatException e = assertThrows(FormatException.class, () -> Configs.merge(TrainConfig.class,
                TrainConfig.defaults(), "cfg.yaml", Configs.layer(Map.of("learning_rate", 1))));
        assertTrue(e.getMessage().contains("learning_rate"), e.getMessage());
        IllegalArgumentException arch = assertThrows(IllegalArgumentException.class, () -> Configs.merge(TrainConfig.class,
                TrainConfig.defaults(), "t", Configs.layer(Map.of("arch", "resnet"))));
        assertTrue(arch.getMessage().contains("resnet") && arch.getMessage().contains("deit-small"),
                arch.getMessage());
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class, () -> Configs.merge(
                TrainConfig.class, TrainConfig.defaults(), "t", Configs.layer(Map.of("loop", Map.of("epochs", 0)))));
        assertTrue(range.getMessage().contains("epochs must be positive"), range.getMessage());
    }
}
