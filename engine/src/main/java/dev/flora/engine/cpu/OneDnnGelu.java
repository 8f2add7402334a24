package dev.flora.engine.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_backward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_gelu_erf;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_training;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;

import dev.flora.engine.tensor.HostStorage;
import dev.flora.engine.tensor.Tensor;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.Pointer;

/**
 * The exact (erf) GELU's backward, dx = dy · GELU'(x), in fp32 through oneDNN's jit eltwise
 * kernel, one primitive per length: the training backends'. Our own backward is scalar loops
 * that C2 vectorizes in part (see {@link CpuKernels} for why not the Vector API); on DeiT-S's
 * fc1 activations in training, oneDNN's took about half their time.
 */
final class OneDnnGelu implements AutoCloseable {
    /** A backward primitive over n floats and the one descriptor of its three arguments. */
    private record Backward(OneDnn.Primitive primitive, dnnl_memory_desc md) {
        void destroy() {
            primitive.destroy();
            dnnl_memory_desc_destroy(md);
        }
    }

    private final ConcurrentHashMap<Integer, Backward> lengths = new ConcurrentHashMap<>();

    /** dx[i] = dy[i] · GELU'(x[i]) for from ≤ i &lt; from + n, on the calling thread's OpenMP threads. */
    void backward(Tensor x, Tensor dy, Tensor dx, long from, int n) {
        if (n == 0) {
            return;
        }
        Backward b = lengths.computeIfAbsent(n, OneDnnGelu::create);
        OneDnn.execute(b.primitive(), new int[] {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC},
                new dnnl_memory_desc[] {b.md(), b.md(), b.md()},
                new Pointer[] {address(x, from), address(dy, from), address(dx, from)});
    }

    private static Backward create(int n) {
        dnnl_memory_desc md = OneDnn.tensor(dnnl_f32, new long[] {n}, new long[] {1});
        dnnl_primitive_attr attr = OneDnn.userScratchpad();
        dnnl_primitive_desc hint = new dnnl_primitive_desc();
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        try {
            OneDnn.check(dnnl_eltwise_forward_primitive_desc_create(hint, OneDnn.engine(), dnnl_forward_training,
                    dnnl_eltwise_gelu_erf, md, md, 0f, 0f, attr), "GELU forward hint");
            OneDnn.check(dnnl_eltwise_backward_primitive_desc_create(pd, OneDnn.engine(), dnnl_eltwise_gelu_erf, md, md,
                    md, 0f, 0f, hint, attr), "GELU backward");
            return new Backward(OneDnn.Primitive.of(pd, "GELU backward"), md);
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_desc_destroy(hint);
            dnnl_primitive_attr_destroy(attr);
        }
    }

    @Override
    public void close() {
        lengths.values().forEach(Backward::destroy);
        lengths.clear();
    }

    private static Pointer address(Tensor t, long offset) {
        return OneDnn.at(((HostStorage) t.storage()).pointerAt(t.offset() + offset));
    }
}
