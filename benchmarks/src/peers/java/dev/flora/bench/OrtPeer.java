package dev.flora.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The ONNX Runtime peer: single-image latency (median of CALLS, default 300) and throughput at
 * batch BATCH (default 256) of an ONNX ViT on the CPU execution provider, printed as one JSON
 * line with the keys of {@code flora bench --json}.
 * Usage: OrtPeer MODEL.onnx THREADS CHANNELS SIZE [BATCH [CALLS]]
 */
public final class OrtPeer {
    private OrtPeer() {
    }

    public static void main(String[] args) throws Exception {
        String path = args[0];
        int threads = Integer.parseInt(args[1]);
        int chans = Integer.parseInt(args[2]);
        int size = Integer.parseInt(args[3]);
        int batch = args.length > 4 ? Integer.parseInt(args[4]) : 256;
        int calls = args.length > 5 ? Integer.parseInt(args[5]) : 300;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        opts.setIntraOpNumThreads(threads);
        opts.setInterOpNumThreads(1);
        opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        try (OrtSession session = env.createSession(path, opts)) {
            double b1 = latency(env, session, chans, size, calls);
            double bN = throughput(env, session, chans, size, batch, 10);
            System.out.printf(Locale.ROOT, "{\"peer\": \"onnxruntime %s\", \"threads\": %d, \"infer_b1_ms\": %.4f, "
                    + "\"infer_b%d_img_per_s\": %.2f}%n", env.getVersion(), threads, b1, batch, bN);
        }
    }

    private static float[] random(int n) {
        float[] x = new float[n];
        Random r = new Random(1);
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    private static void run(OrtEnvironment env, OrtSession s, float[] x, long[] shape) throws Exception {
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
             OrtSession.Result r = s.run(Map.of("images", t))) {
            r.get(0);
        }
    }

    private static double latency(OrtEnvironment env, OrtSession s, int c, int size, int calls) throws Exception {
        float[] x = random(c * size * size);
        long[] shape = {1, c, size, size};
        for (int i = 0; i < 30; i++) {
            run(env, s, x, shape);
        }
        long[] t = new long[calls];
        for (int i = 0; i < calls; i++) {
            long t0 = System.nanoTime();
            run(env, s, x, shape);
            t[i] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        return t[calls / 2] / 1e6;
    }

    private static double throughput(OrtEnvironment env, OrtSession s, int c, int size, int batch, int batches)
            throws Exception {
        float[] x = random(batch * c * size * size);
        long[] shape = {batch, c, size, size};
        run(env, s, x, shape);
        long t0 = System.nanoTime();
        for (int i = 0; i < batches; i++) {
            run(env, s, x, shape);
        }
        return (double) batch * batches / ((System.nanoTime() - t0) / 1e9);
    }
}
