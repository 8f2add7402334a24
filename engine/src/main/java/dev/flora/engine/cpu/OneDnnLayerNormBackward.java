package dev.flora.engine.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_MEAN;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_VARIANCE;
import static org.bytedeco.dnnl.global.dnnl.dnnl_backward;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_training;
import static org.bytedeco.dnnl.global.dnnl.dnnl_layer_normalization_backward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_layer_normalization_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_scale;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_shift;

import dev.flora.engine.tensor.Tensor;
import java.nio.FloatBuffer;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Layer normalization's backward through oneDNN, in fp32: dx, and γ's and β's gradients added
 * to dGamma and dBeta, from the forward's per-row mean and 1/√(var + eps) as the backend's
 * forward keeps them. oneDNN takes the variance and eps instead; it is given 1/rstd² with eps
 * 0, which gives back rstd up to rounding. The training backends' backward (ours made three
 * copies of every row between buffers and arrays).
 */
final class OneDnnLayerNormBackward implements AutoCloseable {
    private record Call(OneDnn.Primitive primitive, dnnl_memory_desc rows, dnnl_memory_desc stats,
                        dnnl_memory_desc params) {
        void destroy() {
            primitive.destroy();
            dnnl_memory_desc_destroy(rows);
            dnnl_memory_desc_destroy(stats);
            dnnl_memory_desc_destroy(params);
        }
    }

    private static final int[] ARGS = {DNNL_ARG_SRC, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE, DNNL_ARG_DIFF_DST,
        DNNL_ARG_SCALE, DNNL_ARG_DIFF_SRC, DNNL_ARG_DIFF_SCALE, DNNL_ARG_DIFF_SHIFT};
    /** Per thread: the variances it hands oneDNN, then γ's and β's gradients it gets back. */
    private static final ThreadLocal<OneDnn.AlignedBuffer> VARIANCES = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);
    private static final ThreadLocal<OneDnn.AlignedBuffer> GRADIENTS = ThreadLocal.withInitial(OneDnn.AlignedBuffer::new);

    private final ConcurrentHashMap<Long, Call> calls = new ConcurrentHashMap<>();

    /**
     * dx [rows, cols] = the gradient of the normalized rows of x for dy, dGamma += Σ dy·x̂ and
     * dBeta += Σ dy over the rows, on the calling thread's OpenMP threads.
     */
    void backward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx, Tensor dGamma,
                  Tensor dBeta, int rows, int cols) {
        if (rows == 0) {
            return;
        }
        Call c = calls.computeIfAbsent(((long) rows << 32) | cols, key -> create(rows, cols));
        FloatPointer variance = new FloatPointer(VARIANCES.get().atLeast((long) rows * Float.BYTES));
        FloatBuffer r = CpuBackend.buf(rstd);
        int ro = CpuBackend.base(rstd);
        for (int i = 0; i < rows; i++) {
            float s = r.get(ro + i);
            variance.put(i, 1f / (s * s));
        }
        Pointer grads = GRADIENTS.get().atLeast(2L * cols * Float.BYTES);
        Pointer dShift = OneDnn.at(grads.address() + (long) cols * Float.BYTES);
        OneDnn.execute(c.primitive(), ARGS,
                new dnnl_memory_desc[] {c.rows(), c.stats(), c.stats(), c.rows(), c.params(), c.rows(), c.params(),
                    c.params()},
                new Pointer[] {address(x), address(mean), variance, address(dy), address(gamma), address(dx), grads,
                    dShift});
        addInto(dGamma, new FloatPointer(grads), cols);
        addInto(dBeta, new FloatPointer(dShift), cols);
    }

    private static void addInto(Tensor target, FloatPointer values, int n) {
        FloatBuffer t = CpuBackend.buf(target);
        int o = CpuBackend.base(target);
        for (int j = 0; j < n; j++) {
            t.put(o + j, t.get(o + j) + values.get(j));
        }
    }

    private static Call create(int rows, int cols) {
        dnnl_memory_desc data = OneDnn.matrix(dnnl_f32, rows, cols, cols, 1);
        dnnl_memory_desc stats = OneDnn.tensor(dnnl_f32, new long[] {rows}, new long[] {1});
        dnnl_memory_desc params = OneDnn.tensor(dnnl_f32, new long[] {cols}, new long[] {1});
        dnnl_primitive_attr attr = OneDnn.userScratchpad();
        dnnl_primitive_desc hint = new dnnl_primitive_desc();
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        String what = "layer norm backward [" + rows + ", " + cols + "]";
        int flags = dnnl_use_scale | dnnl_use_shift;
        try {
            OneDnn.check(dnnl_layer_normalization_forward_primitive_desc_create(hint, OneDnn.engine(),
                    dnnl_forward_training, data, data, stats, 0f, flags, attr), what + " hint");
            OneDnn.check(dnnl_layer_normalization_backward_primitive_desc_create(pd, OneDnn.engine(), dnnl_backward,
                    data, data, data, stats, 0f, flags, hint, attr), what);
            return new Call(OneDnn.Primitive.of(pd, what), data, stats, params);
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_desc_destroy(hint);
            dnnl_primitive_attr_destroy(attr);
        }
    }

    private static Pointer address(Tensor t) {
        return OneDnnMatmuls.address(t, 0);
    }

    @Override
    public void close() {
        calls.values().forEach(Call::destroy);
        calls.clear();
    }
}
