package dev.dmwc.writecache.engine;

/**
 * The kernel's execution contexts for one target: work items on queues ({@code queue_work}
 * semantics: queuing a pending item does nothing), timers ({@code mod_timer}), a clock in
 * milliseconds (the engine reads {@code jiffies} off it: {@link Jiffies}), and the one place a
 * context waits for others to progress ({@code io_schedule} in {@code writecache_wait_on_freelist}).
 *
 * <p>{@link VirtualScheduler} runs everything on the caller's thread in virtual time: scripts,
 * crash tests and properties are deterministic and take no wall time to "sleep".
 */
public interface Scheduler {
    /** A work item bound to a queue. */
    interface Work {
        /** {@code queue_work}: no-op when already pending. */
        void queue();

        boolean pending();
    }

    /** A timer ({@code timer_list}). */
    interface Timer {
        /**
         * {@code mod_timer}: run {@code delayMs} from now (the engine works out, with {@link
         * Jiffies#timerDelayMs}, when the kernel's timer wheel runs {@code mod_timer(jiffies + n)}).
         */
        void mod(long delayMs);

        /** {@code del_timer}. */
        void del();

        boolean pending();
    }

    long nowMs();

    /**
     * Whether every work item, timer and I/O completion runs on the thread that drives the engine
     * (then nothing can contend for its lock, and the engine elides it).
     */
    default boolean singleThreaded() {
        return false;
    }

    Work newWork(String queue, String name, Runnable body);

    Timer newTimer(String name, Runnable body);

    /** {@code flush_workqueue}: return when everything queued on {@code queue} so far has run. */
    void flushQueue(String queue);

    /**
     * Return once {@code timer} has fired (at once if it is not pending): a context that sleeps
     * out a timeout ({@code schedule_timeout}), which nothing cuts short. Called without the
     * engine lock. The virtual scheduler lets time pass to the timer's expiry, running what falls
     * due before it; a threaded one waits for it.
     */
    void awaitTimer(Timer timer);

    /**
     * Called with the engine lock held by a context that must wait for another to progress
     * ({@code io_schedule}): the lock is released while others run. Returns when something may
     * have changed; callers re-check their condition.
     */
    void waitForProgress(java.util.concurrent.locks.ReentrantLock lock);

    /**
     * {@code wake_up(&wc->freelist_wait)}, called (engine lock held) when entries are freed and a
     * context waits in {@link #waitForProgress}. Default: nothing (a single-threaded scheduler
     * runs the freeing work itself); {@link ThreadedScheduler}: the waiters wake.
     */
    default void wakeWaiters() {
    }

    /**
     * Send one I/O to a device; {@code io} performs it and then its completion. The kernel's bios
     * are asynchronous: many are in flight at once. Default: now, on the caller's thread;
     * {@link VirtualScheduler}: as a work item of its own, when no other work can run.
     */
    default void submitIo(Runnable io) {
        io.run();
    }

    /**
     * DM core is about to map the rest of a bio the target accepted only in part. In the kernel, a
     * worker of {@code queue} that a part woke ({@code queue_work}) preempts the submitting task
     * before the rest is mapped; I/O completions and the endio thread run in device time, which is
     * longer (the endio thread starts with a flush of the origin). Default: nothing (real threads
     * race as the kernel's do); {@link VirtualScheduler}: the queued work of {@code queue} runs.
     */
    default void beforeSplitRemainder(String queue) {
    }

    /**
     * Whether the calling work item may wait here ({@link #waitForProgress}). False only where the
     * kernel's worker would sleep and let the task that woke it go on, which a scheduler running
     * everything on one thread cannot do by waiting: {@link VirtualScheduler} between the parts of a
     * split bio. The caller then hands the rest of its work to {@link #deferBlocked}.
     */
    default boolean mayBlock() {
        return true;
    }

    /**
     * The work item running on {@code queue} sleeps, and {@code rest} is what it does when it wakes:
     * it runs later, ahead of the queue's other work (a workqueue with {@code max_active 1} runs the
     * next item only after this one returns). Only called when {@link #mayBlock} is false.
     */
    default void deferBlocked(String queue, String name, Runnable rest) {
        throw new UnsupportedOperationException("this scheduler's work items block where they wait");
    }

    /** Cancel everything of this target (dtr). */
    void shutdown();
}
