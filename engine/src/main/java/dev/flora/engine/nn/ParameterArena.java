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
 */
public final class ParameterArena {
    /** Every parameter starts on a multiple of this many floats; the padding stays zero. */
    public static final int ALIGN = 16;

    private final Backend backend;
    private final List<Param> params;
    private final Map<String, Param> byName;
    private final Tensor values;
    /** The arena whose gradient block this one uses: itself, or the one it was bound to. */
    private ParameterArena gradientOwner;
    /** This arena's own gradient block, null until first used. */
    private Tensor grads;

    private ParameterArena(Backend backend, List<Param> params, Tensor values, ParameterArena gradientOwner) {
        this.backend = backend;
        this.params = Collections.unmodifiableList(new ArrayList<>(params));
        this.byName = new LinkedHashMap<>();
        for (Param p : params) {
            byName.put(p.name(), p);
        }
        this.values = values;
        this.gradientOwner = gradientOwner == null ? this : gradientOwner;
        for (Param p : params) {
            p.bind(values, this);
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
            long n = Tensor.product(shape);
            size += (n + ALIGN - 1) / ALIGN * ALIGN;
            return p;
        }

        public ParameterArena build(Backend backend) {
            built = true;
            int n = Math.toIntExact(size);
            return new ParameterArena(backend, params, backend.allocate(n), null);
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
            return new ParameterArena(existing.backend, params, existing.values, existing.gradientOwner);
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
        return values;
    }

    /** The gradient block, same layout as {@link #values()}; allocated (zeroed) on the first call. */
    public Tensor grads() {
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
        return values.numel();
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
            p.bind(values, this);
        }
    }

    public void zeroGrads() {
        backend.fill(grads(), 0f);
    }
}
