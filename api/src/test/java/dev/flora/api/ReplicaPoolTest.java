package dev.flora.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** The close protocol, without a model: every step observed, no timing guesses. */
class ReplicaPoolTest {
    private static void awaitWaiting(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != Thread.State.WAITING) {
            assertTrue(System.nanoTime() < deadline, t + " never waited");
            Thread.sleep(1);
        }
    }

    @Test
    void closeReleasesWaitersAndReturnsOnceTheLentReplicaIsBack() throws Exception {
        ReplicaPool<String> pool = new ReplicaPool<>(List.of("only"), "VitPredictor");
        String lent = pool.borrow();

        CompletableFuture<String> waiter = new CompletableFuture<>();
        Thread w = new Thread(() -> {
            try {
                waiter.complete(pool.borrow());
            } catch (RuntimeException e) {
                waiter.completeExceptionally(e);
            }
        });
        w.start();
        awaitWaiting(w);

        CompletableFuture<Boolean> closed = new CompletableFuture<>();
        Thread c = new Thread(() -> closed.complete(pool.close()));
        c.start();

        ExecutionException e = assertThrows(ExecutionException.class, () -> waiter.get(10, TimeUnit.SECONDS));
        assertEquals("VitPredictor is closed", e.getCause().getMessage());
        assertTrue(e.getCause() instanceof IllegalStateException);
        assertThrows(TimeoutException.class, () -> closed.get(100, TimeUnit.MILLISECONDS),
                "close waits for the replica in use");

        pool.release(lent);
        assertTrue(closed.get(10, TimeUnit.SECONDS), "the first close");
        assertFalse(pool.close(), "a second close is a no-op");
        assertThrows(IllegalStateException.class, pool::borrow);
        assertThrows(IllegalStateException.class, pool::checkOpen);
        w.join();
        c.join();
    }

    @Test
    void anInterruptedWaiterGivesUp() throws Exception {
        ReplicaPool<String> pool = new ReplicaPool<>(List.of("only"), "VitPredictor");
        pool.borrow();
        CompletableFuture<Throwable> got = new CompletableFuture<>();
        Thread w = new Thread(() -> {
            try {
                pool.borrow();
                got.complete(null);
            } catch (RuntimeException e) {
                got.complete(e);
            }
        });
        w.start();
        awaitWaiting(w);
        w.interrupt();
        Throwable e = got.get(10, TimeUnit.SECONDS);
        assertTrue(e instanceof IllegalStateException && e.getMessage().contains("interrupted"), String.valueOf(e));
    }
}
