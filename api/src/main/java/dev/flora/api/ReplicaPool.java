package dev.flora.api;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Model replicas lent one per call. Closing refuses new borrowers, releases the ones waiting
 * (both get {@code IllegalStateException}), and waits until the lent replicas are back, so their
 * buffers can be freed after the calls using them have finished.
 */
final class ReplicaPool<T> {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<T> idle = new ArrayDeque<>();
    private final int size;
    private final String closedMessage;
    private boolean closed;

    /** @param owner named in the exception callers get after close */
    ReplicaPool(List<T> replicas, String owner) {
        idle.addAll(replicas);
        this.size = replicas.size();
        this.closedMessage = owner + " is closed";
    }

    /** Waits for a free replica. */
    T borrow() {
        lock.lock();
        try {
            while (!closed && idle.isEmpty()) {
                changed.await();
            }
            if (closed) {
                throw new IllegalStateException(closedMessage);
            }
            return idle.pop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a free model replica", e);
        } finally {
            lock.unlock();
        }
    }

    /** Throws what {@link #borrow} throws after close, for work to skip before it borrows. */
    void checkOpen() {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException(closedMessage);
            }
        } finally {
            lock.unlock();
        }
    }

    void release(T replica) {
        lock.lock();
        try {
            idle.push(replica);
            // all: a closer waits on the same condition as borrowers
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Closes the pool and returns once every replica is back; true for the first call only. */
    boolean close() {
        lock.lock();
        try {
            boolean first = !closed;
            closed = true;
            changed.signalAll();
            while (idle.size() < size) {
                changed.awaitUninterruptibly();
            }
            return first;
        } finally {
            lock.unlock();
        }
    }
}
