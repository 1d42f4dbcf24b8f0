package dev.dmwc.writecache.engine;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Numbered turns, taken in order: the holder of ticket {@code t} waits until {@code t - 1} has
 * passed. Writeback runs copied on several I/O threads go through one so that their writes enter
 * the origin's queue in the order the writeback worker submitted them. Only the thread waiting
 * for the next turn is woken when it comes.
 */
final class Turnstile {
    private long issued;
    private volatile long next;
    private final ConcurrentHashMap<Long, Thread> waiting = new ConcurrentHashMap<>();

    /** The next ticket. Callers that hand tickets to an executor do both under this object's lock. */
    synchronized long take() {
        return issued++;
    }

    /**
     * Wait until it is {@code ticket}'s turn; at once if {@code free} (turns are not kept: with a
     * single-threaded scheduler work runs in the order it was queued anyway, and nothing could
     * pass a turn while this waited). A short spin first: the turn before is often moments away.
     */
    void await(long ticket, boolean free) {
        if (free || next >= ticket) {
            return;
        }
        for (int i = 0; i < 100; i++) {
            Thread.onSpinWait();
            if (next >= ticket) {
                return;
            }
        }
        Thread me = Thread.currentThread();
        waiting.put(ticket, me);
        while (next < ticket) {
            LockSupport.park(this);
        }
        waiting.remove(ticket);
    }

    /** {@code ticket}'s turn is over; wake the holder of the next one if it waits. */
    void pass(long ticket) {
        synchronized (this) {
            if (next <= ticket) {
                next = ticket + 1;
            }
        }
        Thread t = waiting.get(ticket + 1);
        if (t != null) {
            LockSupport.unpark(t);
        }
    }
}
