package dev.flora.engine.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCRATCHPAD;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx2;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_amx;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_get_effective_cpu_isa;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_clone;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_create_with_strides;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_scratchpad_mode;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reorder_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_scratchpad_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_scratchpad_mode_user;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_wait;
import static org.bytedeco.dnnl.global.dnnl.dnnl_success;

import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * oneDNN (through JavaCPP's dnnl preset) as the CPU backend's oneDNN products use it:
 * the process's one CPU engine, a stream per calling thread (a oneDNN stream is not meant to
 * be shared between threads), whether this CPU has the bf16 instructions, and the few calls
 * that every product makes. Every primitive runs with a scratchpad the caller owns, so one
 * primitive can run on several threads at once (serving replicas share the backend).
 */
final class OneDnn {
    /** oneDNN's ISA values are bit sets: an ISA includes another when it holds all its bits. */
    private static final int BF16_ISA = dnnl_cpu_isa_avx512_core_bf16;
    private static final ThreadLocal<dnnl_stream> STREAMS = ThreadLocal.withInitial(OneDnn::newStream);
    private static final ThreadLocal<AlignedBuffer> SCRATCHPADS = ThreadLocal.withInitial(AlignedBuffer::new);
    static final String OMP_WAIT_POLICY = "OMP_WAIT_POLICY";

    static {
        // oneDNN's OpenMP (libgomp) threads by default spin for a while after each product, on
        // the cores our own pool then needs for attention and layernorm (DeiT-S bf16 at batch 1
        // lost about a fifth to it). libgomp reads the variable once, when it loads, which is
        // after this: the dnnl classes load on first use, below.
        if (System.getenv(OMP_WAIT_POLICY) == null) {
            Libc.setenv(OMP_WAIT_POLICY, "PASSIVE");
        }
    }

    private OneDnn() {
    }

    /**
     * Loaded on first use, so that work that runs no oneDNN op (OpenBLAS products alone: SVD,
     * calibration, export) never loads oneDNN's 90 MB library.
     */
    private static final class Engine {
        static final dnnl_engine CPU = create();

        private static dnnl_engine create() {
            dnnl_engine e = new dnnl_engine();
            check(dnnl_engine_create(e, dnnl_cpu, 0), "engine create");
            return e;
        }
    }

    static dnnl_engine engine() {
        return Engine.CPU;
    }

    /**
     * Null where bf16 products can run here at full speed, else why not, in words. oneDNN would
     * also run them on older CPUs, converting in software at about the speed of fp32.
     */
    static String bf16UnsupportedReason() {
        int isa;
        try {
            isa = dnnl_get_effective_cpu_isa();
        } catch (LinkageError e) {
            return "oneDNN did not load (" + e.getMessage() + ")";
        }
        return bf16UnsupportedReason(isa);
    }

    /**
     * The instruction set oneDNN's bf16 or fp32 products run on here, in words ("AMX",
     * "AVX512-BF16", "AVX-512", "AVX2"). bf16's speed against fp32 depends on it several-fold
     * (docs/perf/2026-12-06-bf16-cpu.md, without AMX), so a speed figure needs it said. fp32 has
     * no AMX path, so for fp32 the answer stops at the vector ISA.
     */
    static String isaName(boolean bf16) {
        int isa;
        try {
            isa = dnnl_get_effective_cpu_isa();
        } catch (LinkageError e) {
            return "no oneDNN";
        }
        return isaName(isa, bf16);
    }

    /** {@link #isaName(boolean)} for the ISA value oneDNN reports. */
    static String isaName(int effectiveIsa, boolean bf16) {
        if (bf16 && includes(effectiveIsa, dnnl_cpu_isa_avx512_core_amx)) {
            return "AMX";
        }
        if (bf16 && includes(effectiveIsa, BF16_ISA)) {
            return "AVX512-BF16";
        }
        if (includes(effectiveIsa, dnnl_cpu_isa_avx512_core)) {
            return "AVX-512";
        }
        return includes(effectiveIsa, dnnl_cpu_isa_avx2) ? "AVX2" : "SSE4.1";
    }

    private static boolean includes(int isa, int part) {
        return (isa & part) == part;
    }

    /** {@link #bf16UnsupportedReason()} for the ISA value oneDNN reports. */
    static String bf16UnsupportedReason(int effectiveIsa) {
        if (includes(effectiveIsa, BF16_ISA)) {
            return null;
        }
        return "this CPU lacks AVX512-BF16 (oneDNN's ISA value here: 0x" + Integer.toHexString(effectiveIsa) + ")";
    }

    static void check(int status, String what) {
        if (status != dnnl_success) {
            throw new IllegalStateException("oneDNN " + what + " failed with status " + status);
        }
    }

    /** A 2-D memory descriptor: element [i, j] at i·stride0 + j·stride1. */
    static dnnl_memory_desc matrix(int dataType, long dim0, long dim1, long stride0, long stride1) {
        return tensor(dataType, new long[] {dim0, dim1}, new long[] {stride0, stride1});
    }

    /** An n-D memory descriptor: element [i0, i1, …] at Σ i_k·strides[k]. */
    static dnnl_memory_desc tensor(int dataType, long[] dims, long[] strides) {
        dnnl_memory_desc md = new dnnl_memory_desc();
        check(dnnl_memory_desc_create_with_strides(md, dims.length, dims, dataType, strides), "memory descriptor");
        return md;
    }

    /** Bytes that memory of this descriptor takes. */
    static long bytes(dnnl_memory_desc md) {
        return dnnl_memory_desc_get_size(md);
    }

    /** Attributes that make the caller supply the scratchpad ({@link #execute} does). */
    static dnnl_primitive_attr userScratchpad() {
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        check(dnnl_primitive_attr_create(attr), "attribute create");
        check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode");
        return attr;
    }

    /** A reorder (a layout or type conversion) from one descriptor's memory into another's. */
    static Primitive reorder(dnnl_memory_desc from, dnnl_memory_desc to, String what) {
        dnnl_primitive_attr attr = userScratchpad();
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        try {
            check(dnnl_reorder_primitive_desc_create(pd, from, engine(), to, engine(), attr), what + " reorder");
            return Primitive.of(pd, what);
        } finally {
            dnnl_primitive_desc_destroy(pd);
            dnnl_primitive_attr_destroy(attr);
        }
    }

    /**
     * A primitive, the scratchpad it needs per execution, and per thread that runs it the memory
     * objects its arguments are bound to: made on a thread's first execution and pointed at each
     * call's data after that, since creating and destroying them costs more than a small product.
     */
    static final class Primitive {
        private final dnnl_primitive handle;
        private final dnnl_memory_desc scratchpad;
        private final long scratchpadBytes;
        private final ConcurrentHashMap<Thread, Bound> bound = new ConcurrentHashMap<>();

        private Primitive(dnnl_primitive handle, dnnl_memory_desc scratchpad, long scratchpadBytes) {
            this.handle = handle;
            this.scratchpad = scratchpad;
            this.scratchpadBytes = scratchpadBytes;
        }

        static Primitive of(dnnl_primitive_desc pd, String what) {
            dnnl_primitive p = new dnnl_primitive();
            check(dnnl_primitive_create(p, pd), what + " primitive create");
            dnnl_memory_desc sp = copy(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
            return new Primitive(p, sp, bytes(sp));
        }

        void destroy() {
            bound.values().forEach(Bound::destroy);
            bound.clear();
            dnnl_primitive_destroy(handle);
            dnnl_memory_desc_destroy(scratchpad);
        }
    }

    /** One thread's memory objects for a primitive's arguments (the scratchpad last) and their list. */
    private static final class Bound {
        private final int[] args;
        private final dnnl_memory_desc[] descriptors;
        private final dnnl_memory[] memories;
        private final dnnl_exec_arg_t list;

        Bound(Primitive p, int[] args, dnnl_memory_desc[] descriptors) {
            this.args = args.clone();
            this.descriptors = descriptors.clone();
            int n = args.length + (p.scratchpadBytes > 0 ? 1 : 0);
            this.memories = new dnnl_memory[n];
            this.list = new dnnl_exec_arg_t(n);
            for (int i = 0; i < n; i++) {
                boolean scratch = i == args.length;
                memories[i] = wrap(scratch ? p.scratchpad : descriptors[i], null);
                list.position(i).arg(scratch ? DNNL_ARG_SCRATCHPAD : args[i]).memory(memories[i]);
            }
            list.position(0);
        }

        /** Whether this binding is for these arguments and descriptors (the same objects). */
        boolean fits(int[] args, dnnl_memory_desc[] descriptors) {
            if (args.length != this.args.length) {
                return false;
            }
            for (int i = 0; i < args.length; i++) {
                if (args[i] != this.args[i] || descriptors[i] != this.descriptors[i]) {
                    return false;
                }
            }
            return true;
        }

        void destroy() {
            for (dnnl_memory m : memories) {
                dnnl_memory_destroy(m);
            }
            list.close();
        }
    }

    /** A copy of a descriptor that a primitive descriptor owns, to outlive it. */
    static dnnl_memory_desc copy(dnnl_memory_desc md) {
        dnnl_memory_desc c = new dnnl_memory_desc();
        check(dnnl_memory_desc_clone(c, md), "memory descriptor clone");
        return c;
    }

    /**
     * Runs p on this thread's stream with args[i] bound to the memory of descriptors[i] at
     * pointers[i], and waits for it. A primitive is meant to be run with the same arguments and
     * descriptor objects every time (its callers keep both); other ones rebind this thread's.
     */
    static void execute(Primitive p, int[] args, dnnl_memory_desc[] descriptors, Pointer[] pointers) {
        Thread thread = Thread.currentThread();
        Bound b = p.bound.get(thread);
        if (b == null || !b.fits(args, descriptors)) {
            if (b != null) {
                b.destroy();
            }
            b = new Bound(p, args, descriptors);
            p.bound.put(thread, b);
        }
        for (int i = 0; i < args.length; i++) {
            check(dnnl_memory_set_data_handle(b.memories[i], pointers[i]), "set data handle");
        }
        if (p.scratchpadBytes > 0) {
            check(dnnl_memory_set_data_handle(b.memories[args.length], SCRATCHPADS.get().atLeast(p.scratchpadBytes)),
                    "set scratchpad handle");
        }
        dnnl_stream stream = STREAMS.get();
        check(dnnl_primitive_execute(p.handle, stream, b.memories.length, b.list), "execute");
        check(dnnl_stream_wait(stream), "stream wait");
    }

    /**
     * A pointer to element {@code offset} of a host tensor's storage. oneDNN takes {@code void*},
     * for which JavaCPP would not scale a float pointer's position, so the address is resolved here.
     */
    static Pointer at(FloatPointer floats) {
        return at(floats.address() + floats.position() * (long) Float.BYTES);
    }

    static Pointer at(long address) {
        return new Address(address);
    }

    /** A bare native address that owns nothing. */
    private static final class Address extends Pointer {
        Address(long address) {
            this.address = address;
        }
    }

    private static dnnl_memory wrap(dnnl_memory_desc md, Pointer data) {
        dnnl_memory m = new dnnl_memory();
        check(dnnl_memory_create(m, md, engine(), data), "memory create");
        return m;
    }

    private static dnnl_stream newStream() {
        dnnl_stream s = new dnnl_stream();
        check(dnnl_stream_create(s, engine(), dnnl_stream_default_flags), "stream create");
        return s;
    }

    /** Native memory aligned to 64 bytes that grows to the largest size asked of it. */
    static final class AlignedBuffer {
        private static final int ALIGN = 64;
        private Pointer raw;
        private Pointer aligned;
        private long capacity;

        /** At least {@code bytes} bytes, valid until the next call that needs more. */
        Pointer atLeast(long bytes) {
            if (bytes > capacity) {
                release();
                raw = Pointer.malloc(bytes + ALIGN);
                if (raw.isNull()) {
                    throw new OutOfMemoryError("oneDNN scratch of " + bytes + " bytes");
                }
                aligned = at((raw.address() + ALIGN - 1) & -ALIGN);
                capacity = bytes;
            }
            return aligned;
        }

        void release() {
            if (raw != null) {
                Pointer.free(raw);
                raw = null;
                aligned = null;
                capacity = 0;
            }
        }
    }
}
