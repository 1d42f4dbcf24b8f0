package dev.dmwc.writecache.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Deterministic execution in virtual time on the calling thread. Work runs when the driver asks
 * ({@link #runPending()}, {@link #advance(long)}) or when a context waits
 * ({@link #waitForProgress}); a queue runs one item at a time (the writeback workqueue has
 * {@code max_active 1}), so a wait inside a work item can only be served by other queues or timers.
 * Writeback I/O completes as a work item of its own ({@link #submitIo}), after every work item that
 * can run, and the writeback queue's work runs between the parts of a split bio
 * ({@link #beforeSplitRemainder}); a work item that would wait there leaves the rest of its work
 * for later instead ({@link #deferBlocked}).
 *
 * <p>{@link #shuffled} makes a scheduler that takes other orders the kernel could take: whichever
 * queue runs next is drawn at random (each queue still runs its own items in order, one at a
 * time), and between the parts of a split bio any amount of any queue's work may run. A script
 * whose results change with the draw depends on timing that this class otherwise fixes to what
 * the kernel was traced doing; those are the scripts worth running on the kernel.
 */
public final class VirtualScheduler implements Scheduler {
    private long now;
    /** Queued work items, first queued first. */
    private final Deque<WorkImpl> pending = new ArrayDeque<>();
    /** Queued I/O ({@link #submitIo}), first submitted first: each its own queue, so always runnable. */
    private final Deque<WorkImpl> ioPending = new ArrayDeque<>();
    private final Set<String> running = new HashSet<>();
    private final List<TimerImpl> timers = new ArrayList<>();
    private int epoch;

    private boolean inSplit;
    private boolean deferred;
    /** Null: the order the kernel was traced taking; else the draws of {@link #shuffled}. */
    private final SplittableRandom shuffle;

    /** Work in the order the kernel was traced taking: first queued, first run; I/O when no work item can run. */
    public VirtualScheduler() {
        this.shuffle = null;
    }

    private VirtualScheduler(long seed) {
        this.shuffle = new SplittableRandom(seed);
    }

    /**
     * A scheduler whose order of work is drawn from {@code seed}: the next queue to run is any
     * runnable one, and between the parts of a split bio none, some or all pending work runs (the
     * kernel on another machine, or on several CPUs, may do any of these). The same seed gives the
     * same order.
     */
    public static VirtualScheduler shuffled(long seed) {
        return new VirtualScheduler(seed);
    }

    private final class WorkImpl implements Work {
        final String queue;
        final String name;
        final Runnable body;
        final int workEpoch = epoch;
        /** A device's I/O and its completion ({@link #submitIo}), not a context's work. */
        final boolean io;
        boolean isPending;

        WorkImpl(String queue, String name, Runnable body) {
            this(queue, name, body, false);
        }

        WorkImpl(String queue, String name, Runnable body, boolean io) {
            this.queue = queue;
            this.name = name;
            this.body = body;
            this.io = io;
        }

        @Override
        public void queue() {
            if (!isPending && workEpoch == epoch) {
                isPending = true;
                (io ? ioPending : pending).addLast(this);
            }
        }

        @Override
        public boolean pending() {
            return isPending;
        }

        @Override
        public String toString() {
            return queue + "/" + name;
        }
    }

    private final class TimerImpl implements Timer {
        final String name;
        final Runnable body;
        final int timerEpoch = epoch;
        long due = -1;

        TimerImpl(String name, Runnable body) {
            this.name = name;
            this.body = body;
        }

        @Override
        public void mod(long delayMs) {
            if (timerEpoch == epoch) {
                due = now + Math.max(0, delayMs);
            }
        }

        @Override
        public void del() {
            due = -1;
        }

        @Override
        public boolean pending() {
            return due >= 0;
        }
    }

    @Override
    public long nowMs() {
        return now;
    }

    @Override
    public Work newWork(String queue, String name, Runnable body) {
        return new WorkImpl(queue, name, body);
    }

    @Override
    public Timer newTimer(String name, Runnable body) {
        TimerImpl t = new TimerImpl(name, body);
        timers.add(t);
        return t;
    }

    /** Run one runnable work item; false if none. */
    private boolean runOne() {
        return runOneOf(null);
    }

    /** Run one runnable work item of {@code queue} (any queue: null); false if none. */
    private boolean runOneOf(String queue) {
        deferred = false;
        WorkImpl next = shuffle == null ? firstRunnable(queue) : drawRunnable(queue);
        if (next == null) {
            return false;
        }
        if (!(next.io ? ioPending : pending).remove(next)) {
            throw new IllegalStateException(next + " ran but was not queued");
        }
        next.isPending = false;
        running.add(next.queue);
        try {
            next.body.run();
        } finally {
            running.remove(next.queue);
        }
        return true;
    }

    private boolean runnable(WorkImpl w, String queue) {
        return (queue == null || w.queue.equals(queue)) && !running.contains(w.queue);
    }

    /**
     * The first runnable work item, and a device's completion only when no work item is: CPUs are
     * faster than devices, so work queued after an I/O still runs before it completes.
     */
    private WorkImpl firstRunnable(String queue) {
        for (WorkImpl w : pending) {
            if (runnable(w, queue)) {
                return w;
            }
        }
        return queue == null ? ioPending.peekFirst() : null;
    }

    /** The first item of a queue drawn among those with runnable work: queues keep their own order. */
    private WorkImpl drawRunnable(String queue) {
        Map<String, WorkImpl> heads = new LinkedHashMap<>();
        for (WorkImpl w : pending) {
            if (runnable(w, queue)) {
                heads.putIfAbsent(w.queue, w);
            }
        }
        if (queue == null) {
            for (WorkImpl w : ioPending) {
                heads.put(w.queue, w);
            }
        }
        if (heads.isEmpty()) {
            return null;
        }
        int pick = shuffle.nextInt(heads.size());
        Iterator<WorkImpl> it = heads.values().iterator();
        for (int i = 0; i < pick; i++) {
            it.next();
        }
        return it.next();
    }

    /** Fire the earliest due timer (advancing time to it) if one is due by {@code limit}. */
    private boolean fireNextTimer(long limit) {
        TimerImpl next = null;
        for (TimerImpl t : timers) {
            if (t.due >= 0 && t.due <= limit && (next == null || t.due < next.due)) {
                next = t;
            }
        }
        if (next == null) {
            return false;
        }
        now = Math.max(now, next.due);
        next.due = -1;
        next.body.run();
        return true;
    }

    /**
     * The I/O runs as a work item of its own (its own queue: none waits for another), so it
     * completes after the work item that submitted it returns, as the kernel's asynchronous bios
     * do: a writeback round that runs meanwhile sees the batch still in flight
     * (kernel scenario {@code test-data/kernel/ssd-split-write-writeback}, session 9's seed 256).
     * It also waits for work queued after it ({@link #firstRunnable}): the writeback worker's
     * rounds, each queuing the next, run back to back while the first rounds' writes are at the
     * origin (kernel seed 1677, RELIABILITY.md).
     */
    @Override
    public void submitIo(Runnable io) {
        new WorkImpl("io-" + (ioSeq++), "io", io, true).queue();
    }

    private long ioSeq;

    /**
     * The kernel on one CPU (the oracle's VM), traced between the parts of a split write
     * ({@code tools/oracle-trace.sh}, test-data/kernel/ssd-split-write-second-writeback): a part
     * that queues writeback wakes the writeback kworker, which runs before the next part is
     * mapped; the kcopyd jobs it submits complete, but the endio thread that frees their blocks
     * first flushes the origin and is still waiting for that flush when the next part is mapped.
     * So the writeback queue's work runs here, and the I/O items and the endio work wait.
     */
    @Override
    public void beforeSplitRemainder(String queue) {
        inSplit = true;
        try {
            if (shuffle != null && shuffle.nextInt(3) != 0) {
                // another order: a few items of any queue (none, when the first draw says stop)
                while (shuffle.nextInt(3) != 0 && runOneOf(null)) {
                    // keep going
                }
                return;
            }
            // a writeback that walked too far queues itself again, and the kworker runs it next;
            // one that sleeps in its throttle (deferBlocked) holds the queue until it wakes
            while (runOneOf(queue) && !deferred) {
                // keep going
            }
        } finally {
            inSplit = false;
        }
    }

    /**
     * Between the parts of a split bio a work item must not wait: in the kernel it sleeps there,
     * and the submitter maps the next part (traced: a writeback throttled by
     * {@code writeback_jobs} finishes its batch only after the write).
     */
    @Override
    public boolean mayBlock() {
        return !inSplit;
    }

    @Override
    public void deferBlocked(String queue, String name, Runnable rest) {
        WorkImpl w = new WorkImpl(queue, name, rest);
        w.isPending = true;
        pending.addFirst(w);
        deferred = true;
    }

    /** Run queued work until none can run. */
    public void runPending() {
        while (runOne()) {
            // keep going
        }
    }

    /** Let {@code ms} of virtual time pass, firing timers and running work as they come due. */
    public void advance(long ms) {
        long target = now + ms;
        runPending();
        while (fireNextTimer(target)) {
            runPending();
        }
        now = target;
        runPending();
    }

    /** Whether anything is queued. */
    public boolean idle() {
        return pending.isEmpty() && ioPending.isEmpty();
    }

    @Override
    public void flushQueue(String queue) {
        while (pending.stream().anyMatch(w -> w.queue.equals(queue))) {
            if (!runOne()) {
                throw new IllegalStateException("flush_workqueue(" + queue + ") from inside that queue: deadlock");
            }
        }
    }

    @Override
    public void awaitTimer(Timer timer) {
        while (timer.pending()) {
            if (!runOne() && !fireNextTimer(Long.MAX_VALUE)) {
                return; // shut down meanwhile
            }
        }
    }

    /** Everything runs on the calling thread. */
    @Override
    public boolean singleThreaded() {
        return true;
    }

    @Override
    public void waitForProgress(ReentrantLock lock) {
        if (runOne()) {
            return;
        }
        if (fireNextTimer(Long.MAX_VALUE)) {
            return;
        }
        throw new IllegalStateException("deadlock: a context waits but no work or timer can run (queues running: "
                + running + ")");
    }

    @Override
    public void shutdown() {
        epoch++;
        for (Deque<WorkImpl> q : List.of(pending, ioPending)) {
            for (WorkImpl w : q) {
                w.isPending = false;
            }
            q.clear();
        }
        for (TimerImpl t : timers) {
            t.due = -1;
        }
        timers.clear();
    }
}
