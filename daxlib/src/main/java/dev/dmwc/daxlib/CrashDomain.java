package dev.dmwc.daxlib;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongUnaryOperator;

/**
 * Which stores a power cut could lose (PMDK pmreorder's model). Every store through a door that
 * records into this domain is tracked at 8-byte granularity (x86 stores of aligned words are
 * atomic): a word is <em>pending</em> from its first store until a write-back of its line
 * ({@code flush}, or a non-temporal store) is followed by a {@code drain}. At a crash each pending
 * word holds either its durable (old) value or its newest one, independently; everything else
 * holds what was written.
 *
 * <p>Offsets are relative to the start of the device. Thread-safe (one lock).
 */
public final class CrashDomain {
    private static final int UNFLUSHED = 0;
    private static final int FLUSHED = 1;

    /** word offset -> {durable value, state} */
    private final Map<Long, long[]> pending = new HashMap<>();
    private long storesRecorded;
    private long drains;
    private volatile Runnable barrierListener;

    /**
     * Called just before every drain (the persistence barrier), outside the domain's lock: a crash
     * explorer takes crash states there, in the middle of the operation that drains.
     */
    public void setBarrierListener(Runnable r) {
        this.barrierListener = r;
    }

    /**
     * Before a store of {@code len} bytes at {@code off}: remember the durable value of every
     * word it touches that is not pending yet. {@code currentWord} reads the word as it is now.
     */
    public synchronized void beforeStore(long off, long len, LongUnaryOperator currentWord) {
        storesRecorded++;
        for (long w = off & ~7L; w < off + len; w += 8) {
            long[] p = pending.get(w);
            if (p == null) {
                pending.put(w, new long[] {currentWord.applyAsLong(w), UNFLUSHED});
            } else {
                p[1] = UNFLUSHED;
            }
        }
    }

    /** After a non-temporal store: the words only wait for a drain. */
    public synchronized void afterNonTemporalStore(long off, long len) {
        markFlushed(off, len);
    }

    /** A write-back of the lines covering {@code [off, off+len)}. */
    public synchronized void flush(long off, long len) {
        markFlushed(off & ~63L, ((off + len + 63) & ~63L) - (off & ~63L));
    }

    private void markFlushed(long off, long len) {
        if (pending.isEmpty()) {
            return;
        }
        if (len / 8 < pending.size()) {
            for (long w = off & ~7L; w < off + len; w += 8) {
                long[] p = pending.get(w);
                if (p != null) {
                    p[1] = FLUSHED;
                }
            }
        } else {
            for (Map.Entry<Long, long[]> e : pending.entrySet()) {
                if (e.getKey() >= (off & ~7L) && e.getKey() < off + len) {
                    e.getValue()[1] = FLUSHED;
                }
            }
        }
    }

    /** A fence: every flushed word is durable now. */
    public void drain() {
        Runnable r = barrierListener;
        if (r != null) {
            r.run();
        }
        drainLocked();
    }

    private synchronized void drainLocked() {
        drains++;
        pending.values().removeIf(p -> p[1] == FLUSHED);
    }

    /** Words a crash could still lose. */
    public synchronized int pendingWords() {
        return pending.size();
    }

    public synchronized long storesRecorded() {
        return storesRecorded;
    }

    public synchronized long drains() {
        return drains;
    }

    /** One possible post-crash state: for each pending word, the durable value to restore (or absent = new). */
    public synchronized Map<Long, Long> crash(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<Long, Long> restore = new HashMap<>();
        for (Map.Entry<Long, long[]> e : sortedPending()) {
            if (r.nextBoolean()) {
                restore.put(e.getKey(), e.getValue()[0]);
            }
        }
        return restore;
    }

    /**
     * Every post-crash state, for small sets ({@code pendingWords() <= maxWords}): 2^n maps of words
     * to restore. Throws when the set is larger.
     */
    public synchronized List<Map<Long, Long>> allCrashStates(int maxWords) {
        List<Map.Entry<Long, long[]>> words = sortedPending();
        if (words.size() > maxWords || words.size() > 20) {
            throw new IllegalStateException("exhaustive crash states: " + words.size() + " pending words > limit "
                    + Math.min(maxWords, 20));
        }
        List<Map<Long, Long>> out = new ArrayList<>();
        for (long mask = 0; mask < (1L << words.size()); mask++) {
            Map<Long, Long> m = new HashMap<>();
            for (int i = 0; i < words.size(); i++) {
                if ((mask & (1L << i)) != 0) {
                    m.put(words.get(i).getKey(), words.get(i).getValue()[0]);
                }
            }
            out.add(m);
        }
        return out;
    }

    private List<Map.Entry<Long, long[]>> sortedPending() {
        List<Map.Entry<Long, long[]>> l = new ArrayList<>(pending.entrySet());
        l.sort(Map.Entry.comparingByKey());
        return l;
    }

    /** Forget everything (after the image was taken, or on a clean shutdown). */
    public synchronized void reset() {
        pending.clear();
    }
}
