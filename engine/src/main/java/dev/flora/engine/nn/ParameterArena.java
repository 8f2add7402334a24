package dev.flora.engine.nn;

import dev.flora.engine.backend.Backend;
import dev.flora.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All parameters of a model in one contiguous float32 block, with the gradients in a second
 * block of the same layout. Optimizer steps, clipping, zeroing and checkpointing are single
 * loops over these blocks. Each parameter starts on a 16-float (64-byte) boundary. The gradient
 * block is allocated on first use, so a model that only infers never holds one (for DeiT-B,
 * 330 MiB, and as much again per batch lane).
 *
 * <p>On a backend that keeps its own copies of the weights for inference (bf16 on the CPU),
 * {@link #releaseCopiesTheBackendHolds} frees the fp32 values of those weights: the rest move
 * to a smaller block, and the arena then serves inference only.
 */
public final class ParameterArena {
    /** Every parameter starts on a multiple of this many floats; the padding stays zero. */
    public static final int ALIGN = 16;

    private final Backend backend;
    private final List<Param> params;
    private final Map<String, Param> byName;
    private Tensor values;
    /** The arena whose value block this one shares: itself, or the one it was bound to. */
    private final ParameterArena valuesOwner;
    /** Arenas bound to this one's values (replicas, batch lanes); counted on the owner. */
    private int boundArenas;
    /** Why this arena serves inference only, once {@link #releaseCopiesTheBackendHolds} freed weights. */
    private volatile String inferenceOnlyBecause;
    /** The arena whose gradient block this one uses: itself, or the one it was bound to. */
    private ParameterArena gradientOwner;
    /** This arena's own gradient block, null until first used. */
    private Tensor grads;

    /** A new arena over {@code values}, or one bound to {@code shared}'s values and gradients. */
    private ParameterArena(Backend backend, List<Param> params, Tensor values, ParameterArena shared) {
        this.backend = backend;
        this.params = Collections.unmodifiableList(new ArrayList<>(params));
        this.byName = new LinkedHashMap<>();
        for (Param p : params) {
            byName.put(p.name(), p);
        }
        if (shared == null) {
            this.values = values;
            this.valuesOwner = this;
            this.gradientOwner = this;
            for (Param p : params) {
                p.bind(values.view(p.offset(), p.shape()), this);
            }
        } else {
            this.values = shared.values;
            this.valuesOwner = shared.valuesOwner;
            this.gradientOwner = shared.gradientOwner;
            this.inferenceOnlyBecause = shared.inferenceOnlyBecause;
            synchronized (valuesOwner) {
                valuesOwner.boundArenas++;
            }
            // the shared arena's views, not offsets into its block: after a release the kept
            // values sit elsewhere
            for (int i = 0; i < params.size(); i++) {
                params.get(i).bind(shared.params.get(i).value(), this);
            }
        }
    }

    /** Collects parameter declarations while layers are constructed; {@link #build} allocates. */
    public static final class Builder {
        private final List<Param> params = new ArrayList<>();
        private final Map<String, Param> names = new LinkedHashMap<>();
        private long size;
        private boolean built;

        /** A parameter that AdamW decays (weight matrices). */
        public Param weight(String name, int... shape) {
            return add(name, true, shape);
        }

        /** A parameter exempt from weight decay (norms, biases, tokens, position embedding). */
        public Param noDecay(String name, int... shape) {
            return add(name, false, shape);
        }

        private Param add(String name, boolean decay, int... shape) {
            if (built) {
                throw new IllegalStateException("arena already built; cannot add " + name);
            }
            if (names.containsKey(name)) {
                throw new IllegalArgumentException("duplicate parameter name " + name);
            }
            Param p = new Param(name, shape, size, decay);
            params.add(p);
            names.put(name, p);
            size += aligned(Tensor.product(shape));
            return p;
        }

        public ParameterArena build(Backend backend) {
            built = true;
            int n = Math.toIntExact(size);
            return new ParameterArena(backend, params, backend.allocateParameters(n), null);
        }

        /**
         * Binds the declared parameters to an existing arena of the same layout (names, shapes,
         * offsets), sharing its weights and gradients.
         */
        public ParameterArena bindTo(ParameterArena existing) {
            built = true;
            if (existing.params.size() != params.size()) {
                throw new IllegalArgumentException("arena layouts differ: " + params.size() + " vs "
                        + existing.params.size() + " parameters");
            }
            for (int i = 0; i < params.size(); i++) {
                Param a = params.get(i);
                Param b = existing.params.get(i);
                if (!a.name().equals(b.name()) || a.offset() != b.offset()
                        || !java.util.Arrays.equals(a.shape(), b.shape())) {
                    throw new IllegalArgumentException("arena layouts differ at " + a + " vs " + b);
                }
            }
            return new ParameterArena(existing.backend, params, null, existing);
        }
    }

    public Backend backend() {
        return backend;
    }

    public List<Param> params() {
        return params;
    }

    public Param get(String name) {
        Param p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter named " + name);
        }
        return p;
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The parameter block (including alignment padding, which stays zero). */
    public Tensor values() {
        requireAllValues();
        return values;
    }

    /** The gradient block, same layout as {@link #values()}; allocated (zeroed) on the first call. */
    public Tensor grads() {
        requireAllValues();
        if (gradientOwner != this) {
            return gradientOwner.grads();
        }
        synchronized (this) {
            if (grads == null) {
                grads = backend.allocate(Math.toIntExact(size()));
                backend.fill(grads, 0f);
            }
            return grads;
        }
    }

    /** Size in floats, padding included. */
    public long size() {
        requireAllValues();
        return values.numel();
    }

    /** Whether {@link #releaseCopiesTheBackendHolds} freed weights, so that this arena serves inference only. */
    public boolean inferenceOnly() {
        return inferenceOnlyBecause != null;
    }

    private void requireAllValues() {
        String why = inferenceOnlyBecause;
        if (why != null) {
            throw new IllegalStateException("this model serves inference only: " + why);
        }
    }

    /**
     * Frees the values of every parameter whose copy the backend holds ({@link
     * Backend#holdsCopyOf}; bf16 inference keeps each linear layer's weights converted after its
     * first product), moving the others to a smaller block. The freed parameters keep their
     * views, by which the backend finds its copies; reading them fails, saying why. From then on
     * the arena serves inference only: gradients, the whole block and its size are refused, and
     * a weight the backend has not converted yet (another rank of a low-rank layer) cannot be.
     * Only for an arena no other is bound to yet (replicas and lanes bound later share the rest).
     *
     * @return the floats freed, padding included (0 where the backend holds no copies)
     */
    public synchronized long releaseCopiesTheBackendHolds() {
        if (inferenceOnlyBecause != null) {
            return 0;
        }
        if (valuesOwner != this || boundArenas > 0 || gradientOwner != this || grads != null) {
            throw new IllegalStateException("release the weights the backend holds before this model's values are "
                    + "shared or its gradients used (" + boundArenas + " arenas bound to it)");
        }
        List<Param> kept = new ArrayList<>();
        long keptSize = 0;
        for (Param p : params) {
            if (!backend.holdsCopyOf(p.value())) {
                kept.add(p);
                keptSize += aligned(p.numel());
            }
        }
        if (kept.size() == params.size()) {
            return 0;
        }
        long freed = values.numel() - keptSize;
        Tensor compact = backend.allocateParameters(Math.toIntExact(keptSize));
        long at = 0;
        for (Param p : kept) {
            Tensor moved = compact.view(at, p.shape());
            backend.copy(p.value(), moved);
            p.bind(moved, this);
            at += aligned(p.numel());
        }
        String why = (params.size() - kept.size()) + " weight matrices are stored once, in " + backend.name()
                + "'s own format, and their fp32 values were freed";
        Tensor old = values;
        values = compact;
        inferenceOnlyBecause = why;
        backend.release(old, why);
        return freed;
    }

    private static long aligned(long floats) {
        return (floats + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** Number of real parameters, padding excluded. */
    public long parameterCount() {
        long n = 0;
        for (Param p : params) {
            n += p.numel();
        }
        return n;
    }

    /** Whether the gradient block this arena uses has been allocated (a test's window). */
    synchronized boolean gradientsAllocated() {
        return gradientOwner == this ? grads != null : gradientOwner.gradientsAllocated();
    }

    /**
     * Gives this arena a zeroed gradient block of its own (allocated when first used) in place of
     * the one it shares (a batch lane's gradients, folded into the model's after each backward
     * pass). The weights stay shared.
     */
    void detachGradients() {
        synchronized (this) {
            gradientOwner = this;
            grads = null;
        }
        for (Param p : params) {
            p.bind(p.value(), this);
        }
    }

    public void zeroGrads() {
        backend.fill(grads(), 0f);
    }
}
