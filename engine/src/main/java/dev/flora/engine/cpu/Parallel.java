package dev.flora.engine.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * Parallel loops over index ranges on a dedicated fork-join pool, one worker per core
 * (override with -Dflora.threads=N), and a spinning helper thread for ops too small for it.
 * Chunk boundaries depend only on the range and the minimum chunk, never on timing, so results
 * are reproducible run to run.
 */
public final class Parallel {
    private static final int THREADS = Math.max(1,
            Integer.getInteger("flora.threads", Runtime.getRuntime().availableProcessors()));
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS) : null;
    /**
     * Takes half of ops too small for the pool (see {@link #forRange}); none on one core or with
     * -Dflora.spinning-helper=false (for services that would rather not have a thread spin
     * between requests' ops).
     */
    private static final SpinningHelper HELPER =
            THREADS > 1 && !"false".equals(System.getProperty("flora.spinning-helper")) ? new SpinningHelper() : null;

    private Parallel() {
    }

    /** Receives one contiguous chunk [start, end) of the index range. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /**
     * Threads the calling thread's ops may use: all of them, or one inside a {@link #forEachTask}
     * task (the pool is then busy with the other tasks, and nested splitting would only add
     * hand-offs).
     */
    public static int threads() {
        return inPoolTask() ? 1 : THREADS;
    }

    /** Whether the calling thread is one of this pool's workers, i.e. already inside a parallel task. */
    static boolean inPoolTask() {
        return POOL != null && Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL;
    }

    /**
     * Runs {@code task.accept(i)} for i &lt; n, spread over the pool; each task's own ops run on
     * its worker alone. For coarse independent work (the lanes of a batch), several tasks per
     * worker balance uneven ones.
     */
    public static void forEachTask(int n, IntConsumer task) {
        if (n == 1 || POOL == null || inPoolTask()) {
            for (int i = 0; i < n; i++) {
                task.accept(i);
            }
            return;
        }
        POOL.invoke(new Chunks((s, e) -> {
            for (int i = s; i < e; i++) {
                task.accept(i);
            }
        }, n, n, 0, n));
    }

    /**
     * Runs {@code body} over [0, n) in chunks of at least {@code minChunk} indices (a few chunks
     * per worker, for balance). A range of one chunk runs inline, except that one of at least
     * an eighth of a chunk is split in two halves with the spinning helper (single-image
     * inference is made of such ops). Inside a pool task the whole range runs inline.
     */
    public static void forRange(int n, int minChunk, RangeBody body) {
        if (n <= 0) {
            return;
        }
        if (inPoolTask()) {
            body.run(0, n);
            return;
        }
        int chunks = (int) Math.min((long) THREADS * 4, (n + (long) minChunk - 1) / Math.max(1, minChunk));
        if (chunks <= 1 || POOL == null) {
            if (HELPER != null && n >= 2 && 8L * n >= minChunk) {
                int mid = n >>> 1;
                HELPER.runPair(() -> body.run(0, mid), () -> body.run(mid, n));
            } else {
                body.run(0, n);
            }
            return;
        }
        if (THREADS == 2 && HELPER != null) {
            // two cores: the caller and the spinning helper take a half each. Through the pool
            // the caller would wait while two parked workers wake, and on a lane's layers (800
            // rows) that wait cost most of what the second core gave.
            int mid = chunkStart(n, chunks, chunks / 2);
            HELPER.runPair(() -> body.run(0, mid), () -> body.run(mid, n));
            return;
        }
        POOL.invoke(new Chunks(body, n, chunks, 0, chunks));
    }

    /** Whether {@link #pair} can run its second half on another thread (the spinning helper). */
    static boolean hasHelper() {
        return HELPER != null;
    }

    /** Runs two independent halves of an op, the second on the spinning helper when there is one. */
    public static void pair(Runnable first, Runnable second) {
        if (HELPER == null || inPoolTask()) {
            first.run();
            second.run();
        } else {
            HELPER.runPair(first, second);
        }
    }

    /** Start index of chunk {@code c} of {@code chunks} equal chunks over [0, n). */
    static int chunkStart(int n, int chunks, int c) {
        return (int) ((long) n * c / chunks);
    }

    private static final class Chunks extends RecursiveAction {
        private final RangeBody body;
        private final int n;
        private final int chunks;
        private final int lo;
        private final int hi;

        Chunks(RangeBody body, int n, int chunks, int lo, int hi) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                body.run(chunkStart(n, chunks, lo), chunkStart(n, chunks, lo + 1));
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Chunks(body, n, chunks, lo, mid), new Chunks(body, n, chunks, mid, hi));
        }
    }
}
