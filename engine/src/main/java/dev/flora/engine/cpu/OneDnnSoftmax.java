package dev.flora.engine.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_training;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_softmax_accurate;
import static org.bytedeco.dnnl.global.dnnl.dnnl_softmax_backward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_softmax_forward_primitive_desc_create;

import dev.flora.engine.tensor.HostStorage;
import dev.flora.engine.tensor.Tensor;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.Pointer;

/**
 * Softmax over rows of fp32 in place through oneDNN's jit kernel, and its backward, one
 * primitive per shape: the CPU backends' softmax (all but the one the kernels' tests use). On
 * DeiT-S's attention scores (six heads of 197 × 197 per image) the forward ran in about half
 * the time of our Vector API rows, whose heap copies in and out and scalar row tails it does
 * not have.
 */
final class OneDnnSoftmax implements AutoCloseable {
    /** A softmax primitive and the descriptor of the rows it runs on. */
    private record Rows(OneDnn.Primitive primitive, dnnl_memory_desc md) {
        void destroy() {
            primitive.destroy();
            dnnl_memory_desc_destroy(md);
        }
    }

    private final ConcurrentHashMap<Long, Rows> shapes = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Rows> backwards = new ConcurrentHashMap<>();

    /**
     * The rows × cols floats of s from {@code offset} replaced by each row's softmax, on the
     * calling thread's OpenMP threads ({@link OpenMpThreads}).
     */
    void inPlace(Tensor s, long offset, int rows, int cols) {
        if (rows == 0) {
            return;
        }
        Rows r = shapes.computeIfAbsent(((long) rows << 32) | cols, key -> {
            dnnl_memory_desc md = OneDnn.matrix(dnnl_f32, rows, cols, cols, 1);
            return new Rows(create(md, md, 1), md);
        });
        Pointer p = address(s, offset);
        OneDnn.execute(r.primitive(), new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new dnnl_memory_desc[] {r.md(), r.md()},
                new Pointer[] {p, p});
    }

    /**
     * dp := p ⊙ (dp − Σ_j p·dp) row by row, the gradient with respect to the scores, for the
     * rows × cols probabilities p from {@code offset} and their gradient dp, in place in dp.
     */
    void backward(Tensor p, Tensor dp, long offset, int rows, int cols) {
        if (rows == 0) {
            return;
        }
        Rows r = backwards.computeIfAbsent(((long) rows << 32) | cols, key -> {
            dnnl_memory_desc md = OneDnn.matrix(dnnl_f32, rows, cols, cols, 1);
            return new Rows(createBackward(md), md);
        });
        Pointer g = address(dp, offset);
        OneDnn.execute(r.primitive(), new int[] {DNNL_ARG_DST, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC},
                new dnnl_memory_desc[] {r.md(), r.md(), r.md()}, new Pointer[] {address(p, offset), g, g});
    }

    private static OneDnn.Primitive createBackward(dnnl_memory_desc md) {
        dnnl_primitive_attr attr = OneDnn.userScratchpad();
        dnnl_primitive_desc hint = new dnnl_primitive_desc();
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        try {
            OneDnn.check(dnnl_softmax_forward_primitive_desc_create(hint, OneDnn.engine(), dnnl_forward_training,
                    dnnl_softmax_accurate, md, md, 1, attr), "softmax forward hint");
            OneDnn.check(dnnl_softmax_backward_primitive_desc_create(pd, OneDnn.engine(), dnnl_softmax_accurate, md, md,
                    md, 1, hint, attr), "softmax backward");
            return OneDnn.Primitive.of(pd, "softmax backward");
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_desc_destroy(hint);
            dnnl_primitive_attr_destroy(attr);
        }
    }

    private static Pointer address(Tensor t, long offset) {
        return OneDnn.at(((HostStorage) t.storage()).pointerAt(t.offset() + offset));
    }

    /** A softmax of src into dst along one dimension (the descriptors stay the caller's). */
    static OneDnn.Primitive create(dnnl_memory_desc src, dnnl_memory_desc dst, int axis) {
        dnnl_primitive_attr attr = OneDnn.userScratchpad();
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        try {
            OneDnn.check(dnnl_softmax_forward_primitive_desc_create(pd, OneDnn.engine(), dnnl_forward_inference,
                    dnnl_softmax_accurate, src, dst, axis, attr), "softmax");
            return OneDnn.Primitive.of(pd, "softmax");
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_attr_destroy(attr);
        }
    }

    @Override
    public void close() {
        shapes.values().forEach(Rows::destroy);
        shapes.clear();
        backwards.values().forEach(Rows::destroy);
        backwards.clear();
    }
}
