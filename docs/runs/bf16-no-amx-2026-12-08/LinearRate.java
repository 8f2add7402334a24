import dev.flora.engine.backend.Backend;
import dev.flora.engine.backend.Precision;
import dev.flora.engine.cuda.Devices;
import dev.flora.engine.tensor.Tensor;
import java.util.Random;

/** GFLOP/s of one linear layer's forward (rows x in -> out) on the CPU backend in fp32 and in bf16, alternating. */
public class LinearRate {
    public static void main(String[] a) {
        int rows = Integer.parseInt(a[0]), in = Integer.parseInt(a[1]), out = Integer.parseInt(a[2]);
        Backend fp32 = Devices.cpu(Precision.FP32, "").backend();
        Backend bf16 = Devices.cpu(Precision.BF16, "").backend();
        for (int round = 0; round < 5; round++) {
            for (Backend b : new Backend[] {fp32, bf16}) {
                Random rng = new Random(1);
                float[] w = new float[out * in];
                for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
                Tensor x = b.allocate(rows * in), wt = b.allocate(out * in), bias = b.allocate(out), y = b.allocate(rows * out);
                b.upload(w, 0, wt);
                b.fill(x, 0.5f);
                for (int i = 0; i < 3; i++) b.linearForward(x, wt, bias, null, y, rows, in, out);
                int reps = 20;
                long t0 = System.nanoTime();
                for (int i = 0; i < reps; i++) b.linearForward(x, wt, bias, null, y, rows, in, out);
                double s = (System.nanoTime() - t0) / 1e9 / reps;
                System.out.printf("round %d %s: %.3f ms, %.0f GFLOP/s%n", round, b == fp32 ? "fp32" : "bf16", s * 1e3, 2.0 * rows * in * out / s / 1e9);
            }
        }
    }
}
