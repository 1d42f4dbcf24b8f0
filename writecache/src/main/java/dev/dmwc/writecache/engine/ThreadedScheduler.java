package dev.dmwc.writecache.engine;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The kernel's contexts on real threads in wall-clock time, for serving and stress runs: one
 * thread per queue (the writeback workqueue has {@code max_active 1}; the endio thread is its
 * own), one timer thread, {@code jiffies} from {@link System#nanoTime()}. Foreground bios come
 * from the caller's threads, as from many CPUs in the kernel.
 *
 * <p>{@link #waitForProgress} releases the engine lock until {@link #wakeWaiters} (the engine
 * frees entries: the kernel's {@code wake_up(&wc->freelist_wait)} in
 * {@code writecache_free_entry}), shutdown, or 10 ms at most, and callers re-check their
 * condition. The 10 ms slice is a safety net the kernel has not: after an I/O error endio ends
 * write-back without freeing, and nothing else would wake a waiter.
 */
public final class ThreadedScheduler implements Scheduler {
    private static final long WAIT_SLICE_MS = 10;

    /**
     * Device I/Os in flight at once unless told otherwise: replay, stress and the tests, whose
     * devices have no speed model. {@code bench} and {@code serve} pass their origin model's queue
     * depth.
     */
    public static final int DEFAULT_IO_DEPTH = 32;

    private final long waitSliceMs;
    private final int ioDepth;

    private final long startNanos = System.nanoTime();
    private final Map<String, ExecutorService> queues = new ConcurrentHashMap<>();
    private final Map<String, Thread> queueThreads = new ConcurrentHashMap<>();
    private final ScheduledThreadPoolExecutor timerThread;
    private final ExecutorService io;
    private final Object progress = new Object();
    private final Consumer<Throwable> onFailure;
    private long progressCount;
    private volatile boolean shut;

    /**
     * {@code onFailure}: told of anything a work item or timer throws (the item is not retried).
     * At most {@link #DEFAULT_IO_DEPTH} I/Os in flight.
     */
    public ThreadedScheduler(Consumer<Throwable> onFailure) {
        this(DEFAULT_IO_DEPTH, onFailure);
    }

    /**
     * {@code ioDepth}: the most device I/Os in flight at once ({@link #submitIo}), the origin's
     * queue depth ({@code ThrottledBlockDevice.Model#queueDepth}). In the kernel the writeback's
     * bios and kcopyd's jobs are asynchronous, up to {@code writeback_jobs} blocks of them, and
     * wait only for a free tag of the device's queue; here each is a synchronous call on one of
     * {@code ioDepth} threads, the others waiting their turn.
     */
    public ThreadedScheduler(int ioDepth, Consumer<Throwable> onFailure) {
        this(ioDepth, onFailure, WAIT_SLICE_MS);
    }

    /** {@code waitSliceMs}: the longest a waiter sleeps before it re-checks unwoken (tests). */
    ThreadedScheduler(int ioDepth, Consumer<Throwable> onFailure, long waitSliceMs) {
        if (ioDepth < 1) {
            throw new IllegalArgumentException("I/O depth " + ioDepth + " is below 1");
        }
        this.onFailure = onFailure;
        this.waitSliceMs = waitSliceMs;
        this.ioDepth = ioDepth;
        timerThread = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "dmwc-timer"));
        timerThread.setRemoveOnCancelPolicy(true);
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        io = Executors.newFixedThreadPool(ioDepth, r -> daemon(r, "dmwc-io-" + n.incrementAndGet()));
    }

    /** The most device I/Os this scheduler keeps in flight at once. */
    public int ioDepth() {
        return ioDepth;
    }

    @Override
    public void submitIo(Runnable body) {
        try {
            io.execute(() -> run(body));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            if (!shut) {
                throw e;
            }
            // the target is gone (dtr): an I/O the last work item asked for as it was stopped is dropped
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private ExecutorService queue(String name) {
        return queues.computeIfAbsent(name, n -> Executors.newSingleThreadExecutor(r -> {
            Thread t = daemon(r, "dmwc-" + n);
            queueThreads.put(n, t);
            return t;
        }));
    }

    private void progressed() {
        synchronized (progress) {
            progressCount++;
            progress.notifyAll();
        }
    }

    private void run(Runnable body) {
        try {
            body.run();
        } catch (Throwable t) {
            onFailure.accept(t);
        }
    }

    @Override
    public void awaitTimer(Timer timer) {
        // a pause's sleep is a second at most: looking every millisecond costs nothing that matters.
        // Fired is not enough: the sleeping work is awake only once the timer's body has queued it
        // (a message flush that saw the timer no longer pending flushed the queue before the work
        // was on it, and returned with the cache still dirty: BenchTest, session 32)
        TimerImpl t = (TimerImpl) timer;
        while ((t.pending() || t.firing) && !shut) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void wakeWaiters() {
        progressed();
    }

    @Override
    public long nowMs() {
        return (System.nanoTime() - startNanos) / 1_000_000L;
    }

    @Override
    public Work newWork(String queue, String name, Runnable body) {
        ExecutorService exec = queue(queue);
        AtomicBoolean pending = new AtomicBoolean();
        return new Work() {
            @Override
            public void queue() {
                if (!shut && pending.compareAndSet(false, true)) {
                    try {
                        exec.execute(() -> {
                            pending.set(false); // like the kernel: queuing again while it runs is allowed
                            if (!shut) {
                                ThreadedScheduler.this.run(body);
                            }
                        });
                    } catch (java.util.concurrent.RejectedExecutionException e) {
                        if (!shut) {
                            throw e;
                        }
                        pending.set(false); // shut down between the check and the queuing: nothing runs any more
                    }
                }
            }

            @Override
            public boolean pending() {
                return pending.get();
            }

            @Override
            public String toString() {
                return queue + "/" + name;
            }
        };
    }

    /**
     * {@code mod_timer} is a store in the kernel, not a wake-up: here {@link Timer#mod} and
     * {@link Timer#del} only set the due time, and a wake-up task is scheduled only when none is
     * due earlier. A wake-up that finds the due time moved later schedules itself again; one that
     * finds the timer deleted does nothing. (pmem commits every 64 blocks and re-arms the
     * autocommit timer each time: cancelling and rescheduling a task there woke the timer thread
     * on every commit.)
     */
    @Override
    public Timer newTimer(String name, Runnable body) {
        return new TimerImpl(name, body);
    }

    private final class TimerImpl implements Timer {
        private final String name;
        private final Runnable body;
        /** Written under the timer's lock; volatile so that {@link #pending}, asked on every write, takes no lock. */
        private volatile long dueNanos = -1;
        private long wakeAt = Long.MAX_VALUE;
        /**
         * Set (before {@link #pending} turns false) while the body of a firing runs: {@code
         * timer_pending()} is false in the callback, as in the kernel, but {@link #awaitTimer}
         * waits for the body too.
         */
        private volatile boolean firing;

        TimerImpl(String name, Runnable body) {
            this.name = name;
            this.body = body;
        }

        private void wake() {
            boolean fire = false;
            synchronized (this) {
                wakeAt = Long.MAX_VALUE;
                if (dueNanos < 0 || shut) {
                    return;
                }
                long now = System.nanoTime();
                if (now - dueNanos >= 0) {
                    firing = true;
                    dueNanos = -1;
                    fire = true;
                } else {
                    schedule(dueNanos - now);
                }
            }
            if (fire) {
                try {
                    if (!shut) {
                        ThreadedScheduler.this.run(body);
                    }
                } finally {
                    firing = false;
                }
            }
        }

        /** Lock held. */
        private void schedule(long delayNanos) {
            wakeAt = System.nanoTime() + delayNanos;
            try {
                timerThread.schedule(this::wake, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // shut down
            }
        }

        @Override
        public synchronized void mod(long delayMs) {
            if (shut) {
                return;
            }
            long delay = Math.max(0, delayMs) * 1_000_000L;
            dueNanos = System.nanoTime() + delay;
            if (wakeAt == Long.MAX_VALUE || wakeAt - dueNanos > 0) {
                schedule(delay);
            }
        }

        @Override
        public synchronized void del() {
            dueNanos = -1;
        }

        @Override
        public boolean pending() {
            return dueNanos >= 0;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    @Override
    public void flushQueue(String queue) {
        if (Thread.currentThread() == queueThreads.get(queue)) {
            throw new IllegalStateException("flush_workqueue(" + queue + ") from inside that queue: deadlock");
        }
        try {
            queue(queue).submit(() -> { }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | java.util.concurrent.RejectedExecutionException e) {
            // shut down: nothing left to flush
        }
    }

    @Override
    public void waitForProgress(ReentrantLock lock) {
        long seen;
        synchronized (progress) {
            seen = progressCount;
        }
        int holds = lock.getHoldCount();
        for (int i = 0; i < holds; i++) {
            lock.unlock();
        }
        try {
            synchronized (progress) {
                long deadline = System.nanoTime() + waitSliceMs * 1_000_000L;
                while (progressCount == seen && !shut) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    progress.wait(Math.max(1, left / 1_000_000L));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            for (int i = 0; i < holds; i++) {
                lock.lock();
            }
        }
    }

    /**
     * Cancel timers and pending work, and wait (up to 30 s each) for running items to finish: the
     * work queues first, whose items may still submit I/O (a writeback stopped part way), then
     * the I/O; as {@code writecache_dtr} destroys the workqueues before the I/O client.
     */
    @Override
    public void shutdown() {
        shut = true;
        timerThread.shutdownNow();
        progressed(); // waiters re-check and see the shutdown
        Thread self = Thread.currentThread();
        for (Map.Entry<String, ExecutorService> q : queues.entrySet()) {
            q.getValue().shutdown();
            if (queueThreads.get(q.getKey()) != self) {
                try {
                    q.getValue().awaitTermination(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        io.shutdown();
        if (!isIoThread(self)) {
            try {
                io.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        progressed();
    }

    private static boolean isIoThread(Thread t) {
        return t.getName().startsWith("dmwc-io-");
    }
}
