package dev.flora.engine.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_layer_normalization_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_scale;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_shift;

import dev.flora.engine.backend.LayerNormWeights;
import dev.flora.engine.tensor.HostStorage;
import dev.flora.engine.tensor.Tensor;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.Pointer;

/**
 * Layer normalization over rows for inference through oneDNN, in fp32: y = (x − mean) / √(var +
 * eps) · γ + β per row. The statistics are not written (no backward reads them). Up to
 * {@link #WHOLE_ROWS} rows run whole on the calling thread, single-threaded in oneDNN: at one
 * image's rows, handing half of them to the helper thread cost more than it saved, and the JVM's
 * own row loop (which copies the rows into an array and back) was slower than oneDNN's on one
 * thread (docs/perf/2026-12-06-bf16-cpu.md). More rows are split as a product's
 * ({@link OneDnnLinears#inRowBlocks}); where the split starts to pay was not measured. An op
 * whose first product reads the normalized rows has them written in the product's format, on
 * the thread that runs that product's rows ({@link OneDnnLinears#mlp}).
 */
final class OneDnnLayerNorm implements AutoCloseable {
    private record Key(int rows, int cols, float eps, int dstType) {
    }

    private record Call(OneDnn.Primitive primitive, dnnl_memory_desc src, dnnl_memory_desc dst,
                        dnnl_memory_desc params) {
        void destroy() {
            primitive.destroy();
            dnnl_memory_desc_destroy(src);
            dnnl_memory_desc_destroy(dst);
            dnnl_memory_desc_destroy(params);
        }
    }

    private static final int[] ARGS = {DNNL_ARG_SRC, DNNL_ARG_DST, DNNL_ARG_SCALE, DNNL_ARG_SHIFT};

    /** A few images' rows (DeiT's 197 per image). */
    static final int WHOLE_ROWS = 1024;

    private final ConcurrentHashMap<Key, Call> calls = new ConcurrentHashMap<>();

    /** y [rows, cols] = the layer normalization of x's rows with γ and β [cols]. */
    void forward(Tensor x, Tensor gamma, Tensor beta, Tensor y, int rows, int cols, float eps) {
        LayerNormWeights w = new LayerNormWeights(gamma, beta, eps);
        OneDnnLinears.RowBlock block = (lo, hi) -> forward(address(x, (long) lo * cols), w,
                address(y, (long) lo * cols), dnnl_f32, hi - lo, cols);
        if (rows <= WHOLE_ROWS) {
            OpenMpThreads.use(1);
            block.run(0, rows);
        } else {
            OneDnnLinears.inRowBlocks(rows, block);
        }
    }

    /**
     * y [rows, cols] (of oneDNN's data type dstType: what a product reads, or fp32) = the layer
     * normalization of the fp32 rows x, on the calling thread as it has oneDNN's threads set.
     */
    void forward(Pointer x, LayerNormWeights w, Pointer y, int dstType, int rows, int cols) {
        Call c = calls.computeIfAbsent(new Key(rows, cols, w.eps(), dstType), OneDnnLayerNorm::create);
        OneDnn.execute(c.primitive(), ARGS, new dnnl_memory_desc[] {c.src(), c.dst(), c.params(), c.params()},
                new Pointer[] {x, y, address(w.gamma(), 0), address(w.beta(), 0)});
    }

    private static Call create(Key key) {
        dnnl_memory_desc src = OneDnn.matrix(dnnl_f32, key.rows(), key.cols(), key.cols(), 1);
        dnnl_memory_desc dst = OneDnn.matrix(key.dstType(), key.rows(), key.cols(), key.cols(), 1);
        dnnl_memory_desc params = OneDnn.tensor(dnnl_f32, new long[] {key.cols()}, new long[] {1});
        dnnl_primitive_attr attr = OneDnn.userScratchpad();
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        String what = "layer norm [" + key.rows() + ", " + key.cols() + "]";
        try {
            OneDnn.check(dnnl_layer_normalization_forward_primitive_desc_create(pd, OneDnn.engine(),
                    dnnl_forward_inference, src, dst, null, key.eps(), dnnl_use_scale | dnnl_use_shift, attr), what);
            return new Call(OneDnn.Primitive.of(pd, what), src, dst, params);
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_attr_destroy(attr);
        }
    }

    private static Pointer address(Tensor t, long offset) {
        return OneDnn.at(((HostStorage) t.storage()).pointerAt(t.offset() + offset));
    }

    @Override
    public void close() {
        calls.values().forEach(Call::destroy);
        calls.clear();
    }
}
