package dev.dmwc.writecache.engine;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * {@code wc->memory_map}: the metadata area (superblock + entries) and, in pmem mode, the data
 * blocks behind it. Offsets are from {@code start_sector}. pmem: the device itself, every store
 * through the persistence door; ssd: a RAM copy with the dirty bitmap.
 */
interface MemoryMap extends AutoCloseable {
    long getLong(long off);

    int getInt(long off);

    /** {@code pmem_assign} of a u64 (ssd: plain store). */
    void assignLong(long off, long value);

    /** {@code pmem_assign} of a u32. */
    void assignInt(long off, int value);

    /** {@code pmem_assign} of a whole {@code wc_memory_entry}. */
    void assignEntry(long off, long originalSector, long seqCount);

    /** {@code writecache_flush_region}: ssd marks the granule dirty; pmem: nothing. */
    void flushRegion(long off, long len);

    /** {@code writecache_flush_all_metadata}. */
    void flushAllMetadata();

    /** pmem: {@code pmem_wmb}. ssd is handled by the engine (it needs the devices). */
    void wmb();

    /** pmem: copy a block out of the cache ({@code copy_mc_to_kernel}); ssd: unsupported. */
    void readData(long off, ByteBuffer dst, int len);

    /** pmem: {@code memcpy_flushcache_optimized} of a block into the cache. */
    void writeData(long off, ByteBuffer src, int len);

    /**
     * pmem: {@link #assignEntry} then {@link #writeData}, the same stores in the same order (the
     * write path of a newly allocated block), one native call where the map can.
     */
    default void assignEntryThenWriteData(long entryOff, long originalSector, long seqCount, long dataOff, ByteBuffer src,
            int len) {
        assignEntry(entryOff, originalSector, seqCount);
        writeData(dataOff, src, len);
    }

    @Override
    void close();

    /** Fault the mapping's pages in, contents unchanged (see {@code BlockDevice.touchAllPages}); ssd's RAM area has none to fault. */
    default void touchAllPages() throws IOException {
    }
}
