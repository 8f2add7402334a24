package dev.flora.engine.cpu;

import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A second thread for work too small for the fork-join pool: single-image inference is a chain
 * of short ops, and waking a parked pool worker costs about as much as one op. This helper
 * spins between jobs, so handing it half of an op costs a few memory writes, no wake-up; after
 * {@link #SPIN_NANOS} without work it parks, so an idle process does not burn a core.
 *
 * <p>One job at a time: a caller that finds the helper busy (another thread's job, or a job
 * posted from inside a job) runs both halves itself, in the same order and with the same
 * boundaries, so results never depend on whether the helper took part.
 */
final class SpinningHelper {
    /** How long the helper spins after its last job before it parks. */
    static final long SPIN_NANOS = 50_000;

    private final AtomicReference<Job> slot = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean parked;

    /** One half of an op handed to the helper; reused per calling thread. */
    private static final class Job {
        Runnable work;
        volatile boolean done;
        Throwable error;
    }

    private static final ThreadLocal<Job> JOBS = ThreadLocal.withInitial(Job::new);

    SpinningHelper() {
        thread = new Thread(this::loop, "flora-spinning-helper");
        thread.setDaemon(true);
        thread.start();
    }

    /** Runs {@code first} on the calling thread and {@code second} on the helper, if it is free. */
    void runPair(Runnable first, Runnable second) {
        Job job = JOBS.get();
        job.work = second;
        job.done = false;
        job.error = null;
        if (!slot.compareAndSet(null, job)) {
            job.work = null;
            first.run();
            second.run();
            return;
        }
        if (parked) {
            LockSupport.unpark(thread);
        }
        Throwable mine = null;
        try {
            first.run();
        } catch (Throwable t) {
            mine = t;
        }
        while (!job.done) {
            Thread.onSpinWait();
        }
        job.work = null;
        Throwable theirs = job.error;
        if (mine != null || theirs != null) {
            Throwable t = mine != null ? mine : theirs;
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(t);
        }
    }

    private void loop() {
        long idleSince = System.nanoTime();
        while (true) {
            Job job = slot.get();
            if (job != null) {
                try {
                    job.work.run();
                } catch (Throwable t) {
                    job.error = t;
                }
                slot.set(null); // free before done: the caller may post its next job at once
                job.done = true;
                idleSince = System.nanoTime();
            } else if (System.nanoTime() - idleSince > SPIN_NANOS) {
                parked = true;
                if (slot.get() == null) { // a caller that posted after this check sees parked and unparks
                    LockSupport.park(this);
                }
                parked = false;
                idleSince = System.nanoTime();
            } else {
                Thread.onSpinWait();
            }
        }
    }
}
