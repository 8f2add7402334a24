package dev.flora.api;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import dev.flora.models.ModelSource;
import java.util.OptionalInt;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Inference for JVM services: load a dense or an exported low-rank ViT (a safetensors path or
 * a bundled name such as {@code vit-fmnist}) and classify images. Safe to call from many
 * threads: each call borrows one of {@code workers} replicas that share the weights and own
 * their activation buffers, and the CPU backend's working arrays are per thread, so a
 * steady-state call allocates its result and a few small objects per op (tensor views and
 * JavaCPP pointers: about 50 KB per image for vit-fmnist), no activations or scratch.
 *
 * <pre>{@code
 * try (VitPredictor p = VitPredictor.load("vit-fmnist")) {
 *     int label = p.classifyPixels(pixels);          // 784 bytes, 0..255
 *     float[] logits = p.predict(normalized, 64);     // 64 images
 * }
 * }</pre>
 */
public final class VitPredictor implements AutoCloseable {
    public static final int DEFAULT_WORKERS = 2;
    public static final int DEFAULT_MAX_BATCH = 256;

    private final ViTConfig config;
    private final int maxBatch;
    private final BlockingQueue<Worker> idle;
    private final float[][] pixelTable;

    /** One replica with its device input buffer. */
    private record Worker(VisionTransformer model, Tensor input) {
    }

    private VitPredictor(VisionTransformer model, int workers, int maxBatch) {
        if (workers < 1 || maxBatch < 1) {
            throw new IllegalArgumentException("workers and max batch must be positive, got " + workers + ", " + maxBatch);
        }
        this.config = model.config();
        this.maxBatch = maxBatch;
        this.idle = new ArrayBlockingQueue<>(workers);
        Backend backend = model.backend();
        for (int i = 0; i < workers; i++) {
            VisionTransformer m = i == 0 ? model : model.replica();
            idle.add(new Worker(m, backend.allocate(maxBatch * config.imageSize())));
        }
        double[] mean = config.inputMean();
        double[] std = config.inputStd();
        this.pixelTable = new float[config.inChans()][256];
        for (int c = 0; c < config.inChans(); c++) {
            for (int v = 0; v < 256; v++) {
                pixelTable[c][v] = (float) ((v / 255.0 - mean[c]) / std[c]);
            }
        }
    }

    /** Loads a model on the CPU backend with the default workers and batch capacity. */
    public static VitPredictor load(String pathOrBundledName) {
        return load(pathOrBundledName, DEFAULT_WORKERS, DEFAULT_MAX_BATCH);
    }

    public static VitPredictor load(String pathOrBundledName, int workers, int maxBatch) {
        return of(ModelSource.load(pathOrBundledName, new CpuBackend(), OptionalInt.empty()), workers, maxBatch);
    }

    /** Wraps a model already in memory (its weights are shared, not copied). */
    public static VitPredictor of(VisionTransformer model, int workers, int maxBatch) {
        return new VitPredictor(model, workers, maxBatch);
    }

    public ViTConfig config() {
        return config;
    }

    /** Floats per image: channels × height × width. */
    public int imageSize() {
        return config.imageSize();
    }

    public int numClasses() {
        return config.numClasses();
    }

    /** Logits [classes] of one normalized image [C·H·W] ((pixel/255 − mean)/std per channel). */
    public float[] predict(float[] image) {
        return predict(image, 1);
    }

    /** Logits [count · classes] of {@code count} normalized images laid out one after another. */
    public float[] predict(float[] images, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be positive, got " + count);
        }
        long expected = (long) count * config.imageSize();
        if (images.length != expected) {
            throw new IllegalArgumentException("expected " + count + " image(s) of " + config.inChans() + "x"
                    + config.imgSize() + "x" + config.imgSize() + " = " + expected + " floats, got " + images.length);
        }
        float[] logits = new float[count * config.numClasses()];
        Worker w = borrow();
        try {
            Backend backend = w.model().backend();
            for (int start = 0; start < count; start += maxBatch) {
                int n = Math.min(maxBatch, count - start);
                Tensor in = w.input().head((long) n * config.imageSize());
                backend.upload(images, start * config.imageSize(), in);
                backend.download(w.model().infer(in, n), logits, start * config.numClasses());
            }
        } finally {
            idle.add(w);
        }
        return logits;
    }

    /** Logits of raw pixels (bytes 0..255, channel-major), normalized as the model was trained. */
    public float[] predictPixels(byte[] pixels, int count) {
        long expected = (long) count * config.imageSize();
        if (pixels.length != expected) {
            throw new IllegalArgumentException("expected " + count + " image(s) of " + config.inChans() + "x"
                    + config.imgSize() + "x" + config.imgSize() + " = " + expected + " bytes, got " + pixels.length);
        }
        float[] x = new float[pixels.length];
        int plane = config.imgSize() * config.imgSize();
        for (int i = 0; i < pixels.length; i++) {
            x[i] = pixelTable[(i / plane) % config.inChans()][pixels[i] & 0xff];
        }
        return predict(x, count);
    }

    /** The arg-max class of one raw-pixel image. */
    public int classifyPixels(byte[] pixels) {
        return argmax(predictPixels(pixels, 1), 0, config.numClasses());
    }

    /** The arg-max class of one normalized image. */
    public int classify(float[] image) {
        return argmax(predict(image), 0, config.numClasses());
    }

    static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) {
            if (v[off + j] > v[off + best]) {
                best = j;
            }
        }
        return best;
    }

    private Worker borrow() {
        try {
            return idle.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a free model replica", e);
        }
    }

    @Override
    public void close() {
        idle.clear();
    }
}
