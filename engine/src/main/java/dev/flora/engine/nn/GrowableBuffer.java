package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A layer-owned activation buffer that is allocated on first use and grows when a larger
 * batch arrives, so steady-state training and inference allocate nothing.
 *
 * <p>A block's buffers can instead come from a {@link Shared} set while one of their kind is
 * entered on the calling thread: the same buffer for the same role in every block. With its
 * own buffers per block, a lane of 16 images writes about 40 MB of activations per forward,
 * more than the L3 cache, and as much again in gradients per backward; shared, about 7 MB,
 * written over and over. {@link VisionTransformer#infer} shares the forward activations
 * ({@link #blockActivation}), which no backward may then read, and every backward pass shares
 * the gradient buffers ({@link #blockGradient}), which live only while their block's backward
 * runs.
 */
final class GrowableBuffer {
    /** "blocks.3.attn.qkv" → role "attn.qkv", "blocks.3" → "": what a module is within its block. */
    private static final Pattern BLOCK_PATH = Pattern.compile("blocks\\.\\d+(?:\\.(.+))?");
    private static final ThreadLocal<Shared> ENTERED = new ThreadLocal<>();
    /** Past this many floats (a GiB) a buffer grows to what is asked only. */
    static final long DOUBLING_LIMIT = 1L << 28;

    /** Which {@link Shared} sets a buffer may come from. */
    enum Kind {
        ACTIVATION, GRADIENT
    }

    private final Backend backend;
    private final Kind kind;
    /** Key into a {@link Shared} set; null for a buffer that is never shared. */
    private final String role;
    private Tensor storage;

    GrowableBuffer(Backend backend) {
        this(backend, null, null);
    }

    private GrowableBuffer(Backend backend, Kind kind, String role) {
        this.backend = backend;
        this.kind = kind;
        this.role = role;
    }

    /**
     * A forward activation of the module at {@code path}, named {@code name}, that blocks may
     * share in inference (outside blocks it is a buffer of its own like any other).
     */
    static GrowableBuffer blockActivation(Backend backend, String path, String name) {
        return shareable(backend, Kind.ACTIVATION, path, name);
    }

    /** A gradient buffer of the module at {@code path} that blocks share in the backward pass. */
    static GrowableBuffer blockGradient(Backend backend, String path, String name) {
        return shareable(backend, Kind.GRADIENT, path, name);
    }

    private static GrowableBuffer shareable(Backend backend, Kind kind, String path, String name) {
        Matcher m = BLOCK_PATH.matcher(path);
        if (!m.matches()) {
            return new GrowableBuffer(backend, kind, null);
        }
        String module = m.group(1) == null ? "" : m.group(1);
        return new GrowableBuffer(backend, kind, module + "#" + name);
    }

    /** A view of exactly {@code numel} floats; contents are whatever the last use left. */
    Tensor get(long numel) {
        Shared shared = role == null ? null : ENTERED.get();
        if (shared != null && shared.kind == kind) {
            return shared.buffers.computeIfAbsent(role, r -> new GrowableBuffer(backend)).get(numel);
        }
        if (storage == null || storage.numel() < numel) {
            storage = backend.allocate(Math.toIntExact(grownSize(storage == null ? 0 : storage.numel(), numel)));
        }
        return storage.head(numel);
    }

    /**
     * The size a buffer of {@code capacity} floats grows to when {@code numel} are asked for: at
     * least twice what it had. The memory given up is freed only when the garbage collector finds
     * it unreachable, so a server whose batch sizes vary, growing a buffer to each new largest
     * batch exactly, would keep every size it passed through until the next collection; doubling
     * bounds what waits to about the final size. The first allocation (and any beyond
     * {@link #DOUBLING_LIMIT}) is exactly what is asked, so a fixed batch costs no more.
     */
    static long grownSize(long capacity, long numel) {
        return capacity == 0 || 2 * capacity > DOUBLING_LIMIT ? numel : Math.max(numel, 2 * capacity);
    }

    /**
     * One buffer per role of one kind, for the blocks of one model instance run one after
     * another on one thread. Within a block every role is distinct. Across blocks, the one
     * buffer that carries data from block to block is read before it is overwritten: in the
     * forward, a block's input (the previous block's fc2 output) is read by its first layernorm
     * and its attention residual before its own fc2 writes; in the backward, a block's upstream
     * gradient (the next block's input gradient) is read by fc2's backward and the first skip
     * add before the block writes its own input gradient.
     */
    static final class Shared {
        private final Kind kind;
        private final Map<String, GrowableBuffer> buffers = new HashMap<>();

        Shared(Kind kind) {
            this.kind = kind;
        }

        /** Makes this set the calling thread's until {@link #exit}; returns the one it replaces. */
        Shared enter() {
            Shared previous = ENTERED.get();
            ENTERED.set(this);
            return previous;
        }

        /** Restores what {@link #enter} replaced. */
        static void exit(Shared previous) {
            if (previous == null) {
                ENTERED.remove();
            } else {
                ENTERED.set(previous);
            }
        }
    }
}
