import dev.flora.engine.backend.*;
import dev.flora.engine.cpu.CpuBackend;
import dev.flora.engine.nn.*;
import dev.flora.engine.tensor.Tensor;
import java.util.*;

public class LrBench {
    public static void main(String[] a) {
        Backend backend = new CpuBackend(Precision.BF16);
        int rows = Integer.parseInt(a[0]);
        int reps = Integer.parseInt(a[1]);
        String[] shapes = Arrays.copyOfRange(a, 2, a.length); // in:out:rank (rank 0 = dense)
        List<LinearLayer> layers = new ArrayList<>();
        ParameterArena.Builder params = new ParameterArena.Builder();
        int maxIn = 0;
        for (String s : shapes) {
            String[] p = s.split(":");
            int in = Integer.parseInt(p[0]), out = Integer.parseInt(p[1]), r = Integer.parseInt(p[2]);
            maxIn = Math.max(maxIn, in);
            layers.add(r == 0 ? new Linear(backend, params, "l" + layers.size(), in, out)
                    : new LowRankLinear(backend, params, "l" + layers.size(), in, out, r));
        }
        ParameterArena arena = params.build(backend);
        Random rnd = new Random(1);
        float[] w = new float[(int) arena.size()];
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() * 0.05);
        backend.upload(w, 0, arena.values());
        Tensor x = backend.allocate(rows * maxIn);
        backend.fill(x, 0.1f);
        double[][] t = new double[layers.size()][reps];
        for (int rep = -20; rep < reps; rep++) {
            for (int i = 0; i < layers.size(); i++) {
                long t0 = System.nanoTime();
                for (int k = 0; k < 10; k++) layers.get(i).forward(x, rows);
                if (rep >= 0) t[i][rep] = (System.nanoTime() - t0) / 10e3;
            }
        }
        for (int i = 0; i < layers.size(); i++) {
            Arrays.sort(t[i]);
            System.out.printf("%-16s median %.1f us%n", shapes[i], t[i][reps / 2]);
        }
    }
}
