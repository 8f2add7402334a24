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
 * <p>A block's forward activations ({@link #blockActivation}) can instead come from a
 * {@link Shared} set while one is entered on the calling thread: the same buffer for the same
 * role in every block. {@link VisionTransformer#infer} does that. With its own buffers per
 * block, a lane of 16 images writes about 40 MB of activations per forward, more than the
 * L3 cache; shared, about 7 MB, written over and over.
 */
final class GrowableBuffer {
    /** "blocks.3.attn.qkv" → role "attn.qkv": what a module is within its block. */
    private static final Pattern BLOCK_PATH = Pattern.compile("blocks\\.\\d+\\.(.+)");
    private static final ThreadLocal<Shared> ENTERED = new ThreadLocal<>();

    private final Backend backend;
    /** Key into a {@link Shared} set; null for a buffer that is never shared. */
    private final String role;
    private Tensor storage;

    GrowableBuffer(Backend backend) {
        this(backend, null);
    }

    private GrowableBuffer(Backend backend, String role) {
        this.backend = backend;
        this.role = role;
    }

    /**
     * A forward activation of the module at {@code path}, named {@code name}, that blocks may
     * share in inference (outside blocks it is a buffer of its own like any other).
     */
    static GrowableBuffer blockActivation(Backend backend, String path, String name) {
        Matcher m = BLOCK_PATH.matcher(path);
        return new GrowableBuffer(backend, m.matches() ? m.group(1) + "#" + name : null);
    }

    /** A view of exactly {@code numel} floats; contents are whatever the last use left. */
    Tensor get(long numel) {
        Shared shared = role == null ? null : ENTERED.get();
        if (shared != null) {
            return shared.buffers.computeIfAbsent(role, r -> new GrowableBuffer(backend)).get(numel);
        }
        if (storage == null || storage.numel() < numel) {
            storage = backend.allocate(Math.toIntExact(numel));
        }
        return storage.head(numel);
    }

    /**
     * One buffer per role, for the blocks of one model instance run one after another on one
     * thread. Within a block every role is distinct, and a block's input (the previous block's
     * last output) is read by its first layernorm and its attention residual before its own
     * last output overwrites it.
     */
    static final class Shared {
        private final Map<String, GrowableBuffer> buffers = new HashMap<>();

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
