package dev.dmwc.writecache.engine;

import dev.dmwc.daxlib.DaxAccessor;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * pmem mode: {@code wc->memory_map} is the persistent memory itself, reached through daxlib's one
 * door ({@link DaxAccessor}) at {@code base = start_sector * 512}. Every store is a persistence
 * primitive ({@code pmemAssign}, {@code memcpyFlushcache}), every commit a {@code drain}, so a
 * crash domain attached to the accessor sees them all.
 */
final class PmemMemoryMap implements MemoryMap {
    private final DaxAccessor door;
    private final long base;
    private final AutoCloseable owner;

    /** {@code owner}: closed with this map (the permanent mapping), or null. */
    PmemMemoryMap(DaxAccessor door, long base, AutoCloseable owner) {
        this.door = door;
        this.base = base;
        this.owner = owner;
    }

    DaxAccessor door() {
        return door;
    }

    @Override
    public void touchAllPages() throws IOException {
        door.touchAllPages();
    }

    @Override public long getLong(long off) { return door.getLong(base + off); }

    @Override
    public int getInt(long off) {
        long w = door.getLong(base + (off & ~7L));
        return (off & 4) == 0 ? (int) w : (int) (w >>> 32);
    }

    @Override public void assignLong(long off, long value) { door.pmemAssign(base + off, value); }

    @Override
    public void assignInt(long off, int value) {
        byte[] b = {(byte) value, (byte) (value >> 8), (byte) (value >> 16), (byte) (value >> 24)};
        door.memcpyFlushcache(base + off, b, 0, 4);
    }

    @Override
    public void assignEntry(long off, long originalSector, long seqCount) {
        door.pmemAssign16(base + off, originalSector, seqCount);
    }

    @Override public void flushRegion(long off, long len) {}
    @Override public void flushAllMetadata() {}
    @Override public void wmb() { door.drain(); }

    @Override
    public void readData(long off, ByteBuffer dst, int len) {
        ByteBuffer d = dst.duplicate();
        d.limit(d.position() + len);
        door.read(base + off, d);
    }

    @Override
    public void writeData(long off, ByteBuffer src, int len) {
        ByteBuffer s = src.duplicate();
        s.limit(s.position() + len);
        door.memcpyFlushcache(base + off, s);
    }

    @Override
    public void assignEntryThenWriteData(long entryOff, long originalSector, long seqCount, long dataOff, ByteBuffer src,
            int len) {
        ByteBuffer s = src.duplicate();
        s.limit(s.position() + len);
        door.pmemAssign16ThenCopy(base + entryOff, originalSector, seqCount, base + dataOff, s);
    }

    /** Write back the CPU cache of the whole mapping ({@code persistent_memory_flush_cache}). */
    void flushCache(long len) {
        door.flushRegion(base, len);
    }

    @Override
    public void close() {
        if (owner != null) {
            try {
                owner.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the permanent pmem mapping failed: " + e, e);
            }
        }
    }
}
