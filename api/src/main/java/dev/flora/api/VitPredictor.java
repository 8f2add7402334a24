package dev.flora.api;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.cuda.Devices;
import dev.flora.engine.io.ModelIO;
import dev.flora.engine.nn.ViTConfig;
import dev.flora.engine.nn.VisionTransformer;
import dev.flora.engine.tensor.Tensor;
import dev.flora.image.ImageFiles;
import dev.flora.image.Picture;
import dev.flora.image.Preprocessing;
import dev.flora.models.ModelLabels;
import dev.flora.models.ModelPreprocessing;
import dev.flora.models.ModelSource;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.Consumer;

/**
 * Inference for JVM services: load a dense or an exported low-rank ViT (a safetensors path or
 * a bundled name such as {@code vit-fmnist}) and classify images. Safe to call from many
 * threads: each call borrows one of {@code workers} replicas that share the weights and own
 * their activation buffers, and the CPU backend's working arrays are per thread, so a
 * steady-state call allocates its result and a few small objects per op (tensor views and
 * JavaCPP pointers: about 50 KB per image for vit-fmnist), no activations or scratch.
 *
 * <p>Image files and {@link BufferedImage}s go through the model's own eval transform (resize,
 * center crop, normalize: {@link #preprocessing()}), resolved once at load from the model file's
 * metadata, with timm's defaults for what it lacks; which defaults were taken is in
 * {@link #notes()} and logged at INFO on this class's {@link System.Logger} (nothing is printed).
 *
 * <p>{@link #close()} lets calls in flight finish and returns when they have; calls made after it,
 * and calls still waiting for a replica when it happens, throw {@code IllegalStateException}.
 * The predictor starts no threads (the CPU backend's shared pool is the process's, and daemon).
 *
 * <pre>{@code
 * try (VitPredictor p = VitPredictor.load("vit-fmnist-flora")) {
 *     for (Prediction top : p.topK(Path.of("shoe.png"), 3)) {
 *         System.out.printf("%s %.1f%%%n", top.label(), 100 * top.prob());
 *     }
 *     int label = p.classifyPixels(pixels);          // 784 bytes, 0..255
 *     float[] logits = p.predict(normalized, 64);     // 64 images
 * }
 * }</pre>
 */
public final class VitPredictor implements AutoCloseable {
    public static final int DEFAULT_WORKERS = 2;
    public static final int DEFAULT_MAX_BATCH = 256;

    private static final System.Logger LOG = System.getLogger(VitPredictor.class.getName());

    private final ViTConfig config;
    private final int maxBatch;
    private final ReplicaPool<Worker> pool;
    private final float[][] pixelTable;
    private final Preprocessing preprocessing;
    private final List<String> labels;
    private final List<String> notes;
    /** Closed with the predictor when {@link #load} made it; a caller's backend stays the caller's. */
    private final Backend ownedBackend;

    /** One replica with its device input buffer. */
    private record Worker(VisionTransformer model, Tensor input) {
    }

    private VitPredictor(ModelSource.LoadedModel loaded, ModelPreprocessing.Overrides flags, int workers,
                         int maxBatch, Consumer<String> noteSink, Backend ownedBackend, String deviceLine) {
        if (workers < 1 || maxBatch < 1) {
            throw new IllegalArgumentException("workers and max batch must be positive, got " + workers + ", " + maxBatch);
        }
        VisionTransformer model = loaded.model();
        this.config = model.config();
        this.maxBatch = maxBatch;
        List<String> told = new ArrayList<>();
        if (deviceLine != null) {
            told.add(deviceLine);
        }
        this.preprocessing = ModelPreprocessing.resolve(loaded, flags, told::add);
        this.notes = List.copyOf(told);
        notes.forEach(noteSink);
        this.labels = ModelLabels.of(loaded);
        this.ownedBackend = ownedBackend;
        Backend backend = model.backend();
        List<Worker> replicas = new ArrayList<>();
        for (int i = 0; i < workers; i++) {
            VisionTransformer m = i == 0 ? model : model.replica();
            replicas.add(new Worker(m, backend.allocate(maxBatch * config.imageSize())));
        }
        this.pool = new ReplicaPool<>(replicas, "VitPredictor");
        this.pixelTable = preprocessing.normalizationTable();
    }

    /** Loads a model on the CPU backend with the default workers and batch capacity. */
    public static VitPredictor load(String pathOrBundledName) {
        return load(pathOrBundledName, DEFAULT_WORKERS, DEFAULT_MAX_BATCH);
    }

    public static VitPredictor load(String pathOrBundledName, int workers, int maxBatch) {
        return load(pathOrBundledName, workers, maxBatch, Precision.FP32);
    }

    /**
     * {@link #load(String, int, int)} with the linear layers' products in {@code precision}:
     * {@link Precision#BF16} stores the weights once in bf16 and multiplies with fp32
     * accumulation; where this CPU lacks AVX512-BF16 it runs fp32. Unless fp32 was asked for,
     * the first of {@link #notes()} says which format runs, and why.
     */
    public static VitPredictor load(String pathOrBundledName, int workers, int maxBatch, Precision precision) {
        Devices.Opened device = Devices.cpu(precision, "");
        Backend backend = device.backend();
        try {
            ModelSource.LoadedModel loaded = ModelSource.open(pathOrBundledName, backend, OptionalInt.empty());
            Consumer<String> log = note -> LOG.log(System.Logger.Level.INFO, note);
            // fp32 is the plain case; what ran when something else was asked for is worth a note
            return new VitPredictor(loaded, ModelPreprocessing.Overrides.none(), workers, maxBatch, log, backend,
                    precision == Precision.FP32 ? null : device.line());
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    /**
     * Wraps a model opened by the caller (on the caller's backend, which stays open after
     * {@link #close()}), with preprocessing {@code flags} over its metadata; {@code notes} hears
     * which values are timm's defaults (also kept in {@link #notes()}).
     */
    public static VitPredictor of(ModelSource.LoadedModel model, ModelPreprocessing.Overrides flags, int workers,
                                  int maxBatch, Consumer<String> notes) {
        return new VitPredictor(model, flags, workers, maxBatch, notes, null, null);
    }

    /**
     * Wraps a model already in memory (its weights are shared, not copied). With no file behind
     * it, its normalization is its config's and the crop and interpolation timm's defaults.
     */
    public static VitPredictor of(VisionTransformer model, int workers, int maxBatch) {
        ModelSource.LoadedModel loaded = new ModelSource.LoadedModel(model, ModelIO.configMetadata(model.config()),
                "in-memory model");
        // expected for a model without a file, so not worth an INFO line in every benchmark
        return new VitPredictor(loaded, ModelPreprocessing.Overrides.none(), workers, maxBatch,
                note -> LOG.log(System.Logger.Level.DEBUG, note), null, null);
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

    /** One name per class ({@link ModelLabels#of}). */
    public List<String> labels() {
        return labels;
    }

    /** The eval transform image files and {@link BufferedImage}s go through. */
    public Preprocessing preprocessing() {
        return preprocessing;
    }

    /** Lines saying which preprocessing values are timm's defaults (none when the model records them all). */
    public List<String> notes() {
        return notes;
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
        Worker w = pool.borrow();
        try {
            Backend backend = w.model().backend();
            for (int start = 0; start < count; start += maxBatch) {
                int n = Math.min(maxBatch, count - start);
                Tensor in = w.input().head((long) n * config.imageSize());
                backend.upload(images, start * config.imageSize(), in);
                backend.download(w.model().infer(in, n), logits, start * config.numClasses());
            }
        } finally {
            pool.release(w);
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

    /** The arg-max class of a decoded image, after {@link #preprocessing()}. */
    public int classify(BufferedImage image) {
        return classify(input(image));
    }

    /** The arg-max class of a PNG or JPEG file, after {@link #preprocessing()}. */
    public int classify(Path imageFile) {
        return classify(input(imageFile));
    }

    /** The {@code k} most probable classes of a decoded image, after {@link #preprocessing()}. */
    public List<Prediction> topK(BufferedImage image, int k) {
        return topK(input(image), k);
    }

    /** The {@code k} most probable classes of a PNG or JPEG file, after {@link #preprocessing()}. */
    public List<Prediction> topK(Path imageFile, int k) {
        return topK(input(imageFile), k);
    }

    /**
     * The {@code k} most probable classes of one normalized image [C·H·W], by softmax
     * probability, highest first, ties by index.
     */
    public List<Prediction> topK(float[] image, int k) {
        if (k < 1 || k > config.numClasses()) {
            throw new IllegalArgumentException("k must be between 1 and " + config.numClasses()
                    + " (the model's classes), got " + k);
        }
        float[] logits = predict(image);
        double[] prob = softmax(logits);
        Integer[] order = new Integer[prob.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -prob[i]).thenComparingInt(i -> i));
        List<Prediction> top = new ArrayList<>(k);
        for (int r = 0; r < k; r++) {
            int i = order[r];
            top.add(new Prediction(i, labels.get(i), prob[i]));
        }
        return List.copyOf(top);
    }

    /** The model's input for one picture: {@link #preprocessing()}'s eval transform, [C·H·W]. */
    public float[] preprocess(Picture picture) {
        float[] x = new float[preprocessing.imageFloats()];
        preprocessing.evalInto(picture, x, 0);
        return x;
    }

    /** Checked first, so that a closed predictor says so rather than decode the file for nothing. */
    private float[] input(Path imageFile) {
        pool.checkOpen();
        return preprocess(ImageFiles.read(imageFile));
    }

    private float[] input(BufferedImage image) {
        pool.checkOpen();
        return preprocess(ImageFiles.fromBufferedImage(image));
    }

    /** exp(l − max) / Σ exp(l − max), in double: the shift keeps exp finite for any logits. */
    static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
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

    /**
     * Lets calls in flight finish, then frees the model's backend if {@link #load} opened it.
     * Later calls, and calls waiting for a replica now, throw {@code IllegalStateException}.
     */
    @Override
    public void close() {
        if (pool.close() && ownedBackend != null) {
            ownedBackend.close();
        }
    }
}
