package dev.flora.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flora.data.Datasets;
import dev.flora.data.ImageDataset;
import dev.flora.data.Split;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.cpu.CpuBackend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class VitPredictorTest {
    static String model() throws Exception {
        return Path.of(VitPredictorTest.class.getResource("/golden/timm_vit_tiny_fmnist.safetensors").toURI())
                .toString();
    }

    /**
     * Steady-state single-image calls on the bundled vit-fmnist: the caller allocates a few
     * small objects per op (tensor views, JavaCPP pointers), not the op's working arrays. With a
     * fresh scratch array per op body it was 1.2 MB per image.
     */
    @Test
    void steadyStatePredictionsAllocateNoWorkingArrays() {
        try (VitPredictor p = VitPredictor.load("vit-fmnist", 1, 4)) {
            float[] image = new float[p.imageSize()];
            for (int i = 0; i < 200; i++) {
                p.predict(image);
            }
            com.sun.management.ThreadMXBean mx =
                    (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long before = mx.getCurrentThreadAllocatedBytes();
            int calls = 100;
            for (int i = 0; i < calls; i++) {
                p.predict(image);
            }
            long perCall = (mx.getCurrentThreadAllocatedBytes() - before) / calls;
            assertTrue(perCall < 128 * 1024, perCall + " bytes allocated per single-image prediction");
        }
    }

    @Test
    void wrongInputSizeNamesTheExpectedSize() throws Exception {
        try (VitPredictor p = VitPredictor.load(model())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.predict(new float[100]));
            assertTrue(e.getMessage().contains("784"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.predictPixels(new byte[784 * 2], 3));
            assertTrue(e.getMessage().contains("2352"), e.getMessage());
        }
    }

    @Test
    void batchesAndSingleImagesAgreeAndAccuracyMatchesPyTorch() throws Exception {
        ImageDataset test = (ImageDataset) Datasets.load("fmnist-subset", Split.TEST);
        try (VitPredictor p = VitPredictor.load(model(), 2, 100)) {
            int n = test.count();
            float[] logits = p.predictPixels(test.pixels(), n); // more than one batch of 100
            int correct = 0;
            for (int i = 0; i < n; i++) {
                correct += VitPredictor.argmax(logits, i * 10, 10) == test.labels()[i] ? 1 : 0;
            }
            // PyTorch scored 80.05 % on these images (timm_vit_tiny_fmnist.json)
            assertEquals(80.05, 100.0 * correct / n, 0.1);
            for (int i = 0; i < 5; i++) {
                byte[] one = Arrays.copyOfRange(test.pixels(), i * 784, (i + 1) * 784);
                float[] single = p.predictPixels(one, 1);
                float[] fromBatch = Arrays.copyOfRange(logits, i * 10, (i + 1) * 10);
                for (int j = 0; j < 10; j++) {
                    assertEquals(fromBatch[j], single[j], 1e-4f * Math.max(1, Math.abs(single[j])));
                }
            }
        }
    }

    /**
     * bf16 products agree with fp32 to bf16's precision, and the predictor says which format
     * ran: on a CPU without AVX512-BF16 it is fp32 with the reason, and then exactly fp32's logits.
     */
    @Test
    void bf16PredictorSaysWhichFormatRanAndAgreesWithFp32() throws Exception {
        ImageDataset test = (ImageDataset) Datasets.load("fmnist-subset", Split.TEST);
        int n = 200;
        byte[] pixels = Arrays.copyOf(test.pixels(), n * 784);
        float[] fp32;
        try (VitPredictor p = VitPredictor.load(model(), 1, 64)) {
            fp32 = p.predictPixels(pixels, n);
        }
        try (VitPredictor p = VitPredictor.load(model(), 2, 64, Precision.BF16)) {
            float[] bf16 = p.predictPixels(pixels, n);
            String device = p.notes().get(0);
            boolean ran = CpuBackend.bf16UnsupportedReason() == null;
            assertTrue(device.contains(ran ? "bf16 linear layers" : "fp32 (bf16 asked for, but"), device);
            double maxDiff = 0;
            int agree = 0;
            for (int i = 0; i < n; i++) {
                agree += VitPredictor.argmax(bf16, i * 10, 10) == VitPredictor.argmax(fp32, i * 10, 10) ? 1 : 0;
                for (int j = 0; j < 10; j++) {
                    maxDiff = Math.max(maxDiff, Math.abs(bf16[i * 10 + j] - fp32[i * 10 + j]));
                }
            }
            if (ran) {
                assertTrue(maxDiff > 0, "bf16 products gave fp32's exact logits: not bf16");
                assertTrue(maxDiff < 0.25, "logits differ by " + maxDiff);
                assertTrue(agree >= n - 4, agree + " of " + n + " top classes agree with fp32");
            } else {
                assertEquals(0, maxDiff);
            }
        }
    }

    @Test
    void manyThreadsGetTheSameAnswersAsOne() throws Exception {
        ImageDataset test = (ImageDataset) Datasets.load("fmnist-subset", Split.TEST);
        try (VitPredictor p = VitPredictor.load(model(), 3, 16)) {
            int n = 64;
            List<float[]> expected = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                expected.add(p.predictPixels(Arrays.copyOfRange(test.pixels(), i * 784, (i + 1) * 784), 1));
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<float[]>> got = new ArrayList<>();
                for (int rep = 0; rep < 4; rep++) {
                    for (int i = 0; i < n; i++) {
                        byte[] img = Arrays.copyOfRange(test.pixels(), i * 784, (i + 1) * 784);
                        got.add(pool.submit(() -> p.predictPixels(img, 1)));
                    }
                }
                for (int k = 0; k < got.size(); k++) {
                    assertArrayEquals(expected.get(k % n), got.get(k).get(), "call " + k);
                }
            } finally {
                pool.shutdown();
            }
        }
    }
}
