package dev.dmwc.writecache.engine;

/** {@code wc->stats}: the ten counters of status fields 5-14. Guarded by the engine lock. */
public final class Stats {
    public long reads;
    public long readHits;
    public long writes;
    public long writeHitsUncommitted;
    public long writeHitsCommitted;
    public long writesAround;
    public long writesAllocate;
    public long writesBlockedOnFreelist;
    public long flushes;
    public long discards;

    void clear() {
        reads = readHits = writes = writeHitsUncommitted = writeHitsCommitted = 0;
        writesAround = writesAllocate = writesBlockedOnFreelist = flushes = discards = 0;
    }
}
