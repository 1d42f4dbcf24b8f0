package dev.dmwc.writecache.block;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one actuator of a disk ({@link ThrottledBlockDevice.Model} with a rotation time), and the
 * disk's volatile write cache. Requests are served one at a time, and the time a request waits for
 * the head depends on where the head is. Queued requests are served in ascending order of sector
 * from the head, and when none is left ahead of it, from the lowest again (a one-way elevator,
 * C-LOOK): the order in which Linux's {@code mq-deadline}, the default scheduler of a rotational
 * disk, dispatches, so the drive's own queue has little left to reorder. A deep queue of random
 * requests shortens the seeks, and a sequential stream goes at the media rate from whichever end
 * the head meets it. (The nearest request first, as before, walked a stream the head met from
 * above backwards, a short seek and half a rotation for each request, where a real drive, which
 * knows where the platter is, would go round once to the stream's start: a cache's drain fell to
 * a fifth of the media rate when its first flush found hundreds of runs queued. BENCHMARKS.md,
 * session 14.)
 *
 * <p>Positioning, from the sector after the last transfer to a request's first sector:
 * <ul>
 * <li>the same sector: nothing (the media rate carries on);
 * <li>forward by less than a track (the bytes that pass under the head in one rotation): the time
 * the platter takes to bring the gap past, at the media rate;
 * <li>anywhere else: a seek, {@code settle + (average - settle) * sqrt(3 * distance / size)} (the
 * average seek at a third of the stroke, the settle time an eighth of it), and half a rotation.
 * </ul>
 * The device file is the whole disk, a seek across it a full stroke, unless the model gives the
 * disk's size ({@code size=}): then the device sits at the disk's start, and a seek across it is
 * that fraction of the stroke.
 *
 * <p>The write cache: a write that fits in it completes at once, and waits in the queue to be
 * written out with the rest. The cache is written out once its oldest write has been held
 * {@link #DESTAGE_DELAY_NANOS}, or it is half full: so writes that arrive a little out of order,
 * as they do from a pool of threads, are still written in order. A cached write keeps its room
 * until the arm has written it. A write that does not fit waits, in order of arrival, until
 * writes written out make room for it. A FUA write and a read each wait for their own turn on
 * the arm. A flush places every write the cache holds at once, and completes when the last is
 * written and the flush latency has passed; the arm does nothing else until then (reads and FUA
 * writes that come meanwhile are placed after it). Writes that come meanwhile still enter the
 * cache as far as it has room: a SATA drive takes no new command while it runs FLUSH CACHE, but
 * the host's queue (64 requests, merged where they touch) takes them and keeps the write-back
 * going, and dmwc has 32 write-back I/Os and no merging; holding them back made a sequential
 * drain of short runs one flush per 32 runs (0.65-0.96 of the media rate, BENCHMARKS.md,
 * session 14). With no cache, every write waits for its turn.
 *
 * <p>Time is the device's own, kept ahead of the wall clock: the arm's thread gives queued requests
 * their places when the arm will be free within {@link #LOOKAHEAD_NANOS}, and wakes their
 * submitters, who sleep until their requests complete. So many short requests in a row do not
 * each wait for a thread to wake up, and the arm's timeline does not drift with the scheduler's
 * wake-up latency (which the lookahead covers). A request that finds the arm free within the
 * lookahead is placed at once by its submitter.
 */
final class DiskArm {
    /** How far ahead of the wall clock requests are placed on the arm's timeline. */
    static final long LOOKAHEAD_NANOS = 1_000_000L;
    /**
     * How long the write cache holds its oldest write before it writes any out, unless it is half
     * full or a flush comes, as a drive holds dirty data for a while.
     */
    static final long DESTAGE_DELAY_NANOS = 5_000_000L;

    private static final class Request {
        final long sector;
        final long bytes;
        final long arrival;
        /** Arrival order, to order requests for the same sector. */
        final long seq;
        final Thread submitter = Thread.currentThread();
        /** A write in the cache: nobody waits for its place on the arm. Lock held. */
        boolean cached;
        /** When a cached write entered the cache: on arrival, or later if it waited for room. */
        long inCache;
        /** When its submitter's request completes: its transfer, or its entry into the cache. */
        long done;
        /** When its transfer on the arm completes; -1 until it has its place. Lock held. */
        long writtenAt = -1;
        /** Set (after {@link #done}) when its submitter may go. */
        volatile boolean released;

        Request(long sector, long bytes, long arrival, long seq) {
            this.sector = sector;
            this.bytes = bytes;
            this.arrival = arrival;
            this.seq = seq;
        }

        void release(long at) {
            done = at;
            released = true;
            LockSupport.unpark(submitter);
        }
    }

    private final ThrottledBlockDevice.Model model;
    private final long sizeSectors;
    private final long trackBytes;
    private final long settleNanos;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when the queue gets its first request, or on close: the arm's thread looks again. */
    private final Condition work = lock.newCondition();
    private static final Comparator<Request> BY_SECTOR = Comparator.<Request>comparingLong(q -> q.sector).thenComparingLong(q -> q.seq);
    /** Cached writes not yet placed on the arm, by sector. */
    private final TreeSet<Request> cachedQueue = new TreeSet<>(BY_SECTOR);
    /** The same, in order of arrival (the oldest decides how long the cache holds). */
    private final LinkedHashSet<Request> cachedByArrival = new LinkedHashSet<>();
    /** Reads, FUA writes and writes the cache does not take, waiting for the arm, by sector. */
    private final TreeSet<Request> directQueue = new TreeSet<>(BY_SECTOR);
    /** Cacheable writes waiting for room in the cache, in order of arrival. */
    private final ArrayDeque<Request> waitingForRoom = new ArrayDeque<>();
    /**
     * Room that frees when a cached write placed on the arm has been written and that no waiting
     * write has taken yet: {when, bytes}, in order of time (the arm's timeline only grows).
     */
    private final ArrayDeque<long[]> freeing = new ArrayDeque<>();
    private long head;
    private long freeAt = Long.MIN_VALUE;
    /** Bytes of cached writes not yet placed on the arm. */
    private long cachedBytes;
    /**
     * Bytes of the cache in use or promised: cached writes not yet written (placed or not), and
     * the room of writes let in at a time still to come.
     */
    private long occupied;
    private long served;
    private long moves;
    private long arrivals;
    private Thread armThread;
    private boolean closed;

    DiskArm(ThrottledBlockDevice.Model model, long sizeBytes) {
        if (!model.isDisk()) {
            throw new IllegalArgumentException("not a disk model: " + model);
        }
        this.model = model;
        this.sizeSectors = Math.max(1, Math.max(sizeBytes, model.diskBytes()) >> BlockDevice.SECTOR_SHIFT);
        this.trackBytes = (long) ((double) model.bytesPerSecond() * model.rotationNanos() / 1e9);
        this.settleNanos = model.seekNanos() / 8;
    }

    /** The time to bring the head from {@code from} (the sector after the last transfer) to {@code to}. */
    long positioningNanos(long from, long to) {
        if (to == from) {
            return 0;
        }
        long gapBytes = (to - from) << BlockDevice.SECTOR_SHIFT;
        if (gapBytes > 0 && gapBytes <= trackBytes) {
            return transferNanos(gapBytes);
        }
        double stroke = Math.min(1.0, Math.abs(to - from) / (double) sizeSectors);
        long seek = settleNanos + (long) ((model.seekNanos() - settleNanos) * Math.sqrt(3 * stroke));
        return seek + model.rotationNanos() / 2;
    }

    private long transferNanos(long bytes) {
        return (long) (bytes * 1e9 / model.bytesPerSecond());
    }

    /**
     * A read, or a write ({@code cacheable}: not FUA, so the write cache may take it), of
     * {@code bytes} at {@code sector}. Runs {@code queued} once it is in the queue, then returns
     * when (in {@link System#nanoTime()}) it completes: when the cache takes it (at once if there
     * is room), or else when the arm has written it; the caller sleeps until then.
     */
    long transfer(long sector, long bytes, boolean cacheable, Runnable queued) {
        Request r;
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the disk model is closed");
            }
            long now = System.nanoTime();
            r = new Request(sector, bytes, now, arrivals++);
            arrive(r, cacheable, now);
            if (!queueEmpty()) {
                startArm();
                work.signal();
            }
        } finally {
            lock.unlock();
        }
        queued.run();
        while (!r.released) {
            LockSupport.park(this);
        }
        return r.done;
    }

    /**
     * A request arrives at {@code now}: into the cache if it may go there and there is room, else
     * to wait for room, or to the arm's queue; then the arm takes what it may. Lock held.
     */
    private void arrive(Request r, boolean cacheable, long now) {
        retire(now);
        if (!cacheable || r.bytes > model.cacheBytes()) { // a write larger than the cache goes through it
            directQueue.add(r);
        } else if (waitingForRoom.isEmpty() && occupied + r.bytes <= model.cacheBytes()) {
            occupied += r.bytes;
            cache(r, now);
            r.release(now);
        } else {
            waitingForRoom.add(r);
            admitWaiting(now);
        }
        if (freeAt <= now + LOOKAHEAD_NANOS) {
            place(now);
        }
    }

    /** Into the cache (its room already counted in {@link #occupied}) and the queue, at {@code at}. Lock held. */
    private void cache(Request r, long at) {
        r.cached = true;
        r.inCache = at;
        cachedBytes += r.bytes;
        cachedQueue.add(r);
        cachedByArrival.add(r);
    }

    /** Nothing waits for the arm. Lock held. */
    private boolean queueEmpty() {
        return cachedQueue.isEmpty() && directQueue.isEmpty();
    }

    /**
     * A flush at {@code now}: every write in the cache by then is placed at once, in the arm's
     * order; the flush completes when the last of them, and everything placed before, is written,
     * and then the flush latency has passed, and the arm does nothing else meanwhile. Returns when
     * it completes.
     */
    long flush(long now) {
        lock.lock();
        try {
            retire(now);
            TreeSet<Request> held = new TreeSet<>(BY_SECTOR);
            for (Request q : cachedByArrival) {
                if (q.inCache <= now) {
                    held.add(q);
                }
            }
            for (Request r = next(held, null); r != null; r = next(held, null)) {
                held.remove(r); // writes let in meanwhile, for later, are not this flush's
                place(r, now);
            }
            freeAt = Math.max(freeAt, now) + model.flushNanos();
            return freeAt;
        } finally {
            lock.unlock();
        }
    }

    private void startArm() {
        if (armThread == null) {
            armThread = new Thread(this::armLoop, "dmwc-disk-arm");
            armThread.setDaemon(true);
            armThread.start();
        }
    }

    /**
     * The arm's thread: places queued requests a lookahead before the arm is free, and cached
     * writes once they have been held long enough.
     */
    private void armLoop() {
        lock.lock();
        try {
            while (!closed) {
                long now = System.nanoTime();
                place(now);
                if (queueEmpty()) {
                    work.await();
                } else {
                    work.awaitNanos(Math.max(nextLook() - now, 1_000L));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    /** Stop the arm's thread; requests still queued are placed first, so no submitter is left waiting. */
    void close() {
        lock.lock();
        try {
            closed = true;
            long now = System.nanoTime();
            while (!queueEmpty()) { // writes waiting for room come into it as it empties
                placeNext(false, true, now);
            }
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Place queued requests while the arm is free within the lookahead of {@code now}. Lock held. */
    private void place(long now) {
        while (freeAt <= now + LOOKAHEAD_NANOS && placeNext(false, false, now)) {
            // placed one
        }
    }

    /** When the oldest cached write not yet placed entered the cache (Long.MAX_VALUE if none). Lock held. */
    private long oldestCached() {
        return cachedByArrival.isEmpty() ? Long.MAX_VALUE : cachedByArrival.iterator().next().inCache;
    }

    /**
     * When the arm's thread must look again, if nothing is queued meanwhile: when the arm is free
     * within the lookahead, or later if only cached writes are queued and held (the cache less than
     * half full), when the first may go. Lock held.
     */
    private long nextLook() {
        if (cachedBytes * 2 >= model.cacheBytes()) {
            return freeAt - LOOKAHEAD_NANOS;
        }
        long oldest = oldestCached();
        long heldUntil = !directQueue.isEmpty() ? Long.MIN_VALUE
                : oldest == Long.MAX_VALUE ? Long.MAX_VALUE : oldest + DESTAGE_DELAY_NANOS;
        return Math.max(freeAt - LOOKAHEAD_NANOS, heldUntil);
    }

    /**
     * Give the next queued request in the arm's order (the first at or after the head, or else the
     * lowest) its place on the timeline, and wake its submitter: of the cached writes only if
     * {@code cachedOnly}; cached writes only once the oldest has been held long enough by
     * {@code now}, or the cache is half full, or if {@code force}. A cached write starts no earlier
     * than {@code now}, when it is let go. False if none may go. Lock held.
     */
    private boolean placeNext(boolean cachedOnly, boolean force, long now) {
        boolean holding = !force && cachedBytes * 2 < model.cacheBytes() && oldestCached() > now - DESTAGE_DELAY_NANOS;
        Request r = next(holding ? null : cachedQueue, cachedOnly ? null : directQueue);
        if (r == null) {
            return false;
        }
        place(r, now);
        return true;
    }

    /**
     * The request of {@code a} and {@code b} (either may be null) the arm takes next: the first at
     * or after the head, or else the lowest. Lock held.
     */
    private Request next(TreeSet<Request> a, TreeSet<Request> b) {
        Request ahead = new Request(head, 0, 0, Long.MIN_VALUE);
        Request r = lower(ceiling(a, ahead), ceiling(b, ahead));
        return r != null ? r : lower(first(a), first(b));
    }

    /**
     * Out of the queue and onto the arm's timeline; wake its submitter, or, for a cached write,
     * let waiting writes have its room once it is written. Lock held.
     */
    private void place(Request r, long now) {
        if (r.cached) {
            cachedQueue.remove(r);
            cachedByArrival.remove(r);
        } else {
            directQueue.remove(r);
        }
        long positioning = positioningNanos(head, r.sector);
        long done = Math.max(freeAt, r.cached ? Math.max(now, r.inCache) : r.arrival) + positioning + transferNanos(r.bytes);
        served++;
        if (positioning > 0) {
            moves++;
        }
        freeAt = done;
        head = r.sector + (r.bytes >> BlockDevice.SECTOR_SHIFT);
        r.writtenAt = done;
        if (r.cached) {
            cachedBytes -= r.bytes;
            freeing.add(new long[] {done, r.bytes});
            admitWaiting(now);
        } else {
            r.release(done);
        }
    }

    private static Request ceiling(TreeSet<Request> set, Request key) {
        return set == null ? null : set.ceiling(key);
    }

    private static Request first(TreeSet<Request> set) {
        return set == null || set.isEmpty() ? null : set.first();
    }

    /** The one of {@code a} and {@code b} that comes first by sector (either may be null). */
    private static Request lower(Request a, Request b) {
        return a == null ? b : b == null || BY_SECTOR.compare(a, b) <= 0 ? a : b;
    }

    /** Room of cached writes written by {@code now} that nobody took is free again. Lock held. */
    private void retire(long now) {
        while (!freeing.isEmpty() && freeing.peek()[0] <= now) {
            occupied -= freeing.poll()[1];
        }
    }

    /**
     * Writes waiting go into the cache, in order of arrival, each at the earliest time (now or on
     * the arm's timeline) when the writes placed before have freed the room it needs; they stop at
     * the first for which the writes placed so far free too little. Lock held.
     */
    private void admitWaiting(long now) {
        retire(now);
        while (!waitingForRoom.isEmpty()) {
            Request w = waitingForRoom.peek();
            long lacking = occupied + w.bytes - model.cacheBytes();
            long at = now;
            long found = 0;
            for (java.util.Iterator<long[]> it = freeing.iterator(); found < lacking && it.hasNext(); ) {
                long[] f = it.next();
                found += f[1];
                at = Math.max(at, f[0]);
            }
            if (found < lacking) {
                return;
            }
            while (lacking > 0) { // take the room, the last piece only in part
                long[] f = freeing.peek();
                long take = Math.min(lacking, f[1]);
                f[1] -= take;
                occupied -= take;
                lacking -= take;
                if (f[1] == 0) {
                    freeing.poll();
                }
            }
            waitingForRoom.poll();
            occupied += w.bytes;
            cache(w, at);
            w.release(at);
        }
    }

    /**
     * Queue transfers of {@code bytes} at each of {@code sectors}, all arriving at {@code now}, as
     * cached writes if {@code cached} (the cache is assumed to have room) or else waiting for their
     * places; place what may go by {@code now}, and return each one's completion (-1: not placed
     * yet). For tests: the placement without threads or the wall clock.
     */
    long[] placeAt(long now, long bytes, boolean cached, long... sectors) {
        lock.lock();
        try {
            List<Request> mine = new ArrayList<>();
            for (long sector : sectors) {
                Request r = new Request(sector, bytes, now, arrivals++);
                if (cached) {
                    occupied += bytes;
                    cache(r, now);
                } else {
                    directQueue.add(r);
                }
                mine.add(r);
            }
            place(now);
            return mine.stream().mapToLong(r -> r.writtenAt).toArray();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Cacheable writes of {@code bytes} at each of {@code sectors} arriving at {@code now}, as
     * {@link #transfer} takes them; returns when each entered the cache (-1: still waiting). For
     * tests, as {@link #placeAt}.
     */
    long[] writeAt(long now, long bytes, long... sectors) {
        lock.lock();
        try {
            List<Request> mine = new ArrayList<>();
            for (long sector : sectors) {
                Request r = new Request(sector, bytes, now, arrivals++);
                arrive(r, true, now);
                mine.add(r);
            }
            return mine.stream().mapToLong(r -> r.released ? r.done : -1).toArray();
        } finally {
            lock.unlock();
        }
    }

    /** Requests served, and how many of them moved the head (for tests). */
    long[] counts() {
        lock.lock();
        try {
            return new long[] {served, moves};
        } finally {
            lock.unlock();
        }
    }
}
