package dev.dmwc.writecache.engine;

import dev.dmwc.writecache.block.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.BitSet;

/**
 * ssd mode: the metadata area in RAM ({@code vmalloc(n_metadata_blocks << block_size_bits)}) and
 * the dirty bitmap, one bit per {@code BITMAP_GRANULARITY} = 64 KiB.
 */
final class SsdMemoryMap implements MemoryMap {
    static final int BITMAP_GRANULARITY = 65536;

    private final ByteBuffer mem;
    private final BitSet dirty = new BitSet();
    private final int bitmapBits;

    SsdMemoryMap(long bytes) {
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("ssd metadata area larger than 2 GiB: " + bytes);
        }
        mem = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        bitmapBits = (int) ((bytes + BITMAP_GRANULARITY - 1) / BITMAP_GRANULARITY);
    }

    long size() {
        return mem.capacity();
    }

    @Override public long getLong(long off) { return mem.getLong((int) off); }
    @Override public int getInt(long off) { return mem.getInt((int) off); }
    @Override public void assignLong(long off, long value) { mem.putLong((int) off, value); }
    @Override public void assignInt(long off, int value) { mem.putInt((int) off, value); }

    @Override
    public void assignEntry(long off, long originalSector, long seqCount) {
        mem.putLong((int) off, originalSector);
        mem.putLong((int) off + 8, seqCount);
    }

    @Override
    public void flushRegion(long off, long len) {
        dirty.set((int) (off / BITMAP_GRANULARITY));
    }

    @Override
    public void flushAllMetadata() {
        dirty.set(0, bitmapBits);
    }

    @Override public void wmb() {}

    @Override
    public void readData(long off, ByteBuffer dst, int len) {
        throw new UnsupportedOperationException("ssd data lives on the cache device");
    }

    @Override
    public void writeData(long off, ByteBuffer src, int len) {
        throw new UnsupportedOperationException("ssd data lives on the cache device");
    }

    /**
     * The dirty part of {@code ssd_commit_flushed}: write each run of dirty granules (clamped to
     * {@code metadataSectors}) at {@code startSector}. Clears nothing: the caller clears after the
     * device flush.
     */
    void writeDirty(BlockDevice ssd, long startSector, long metadataSectors) throws IOException {
        int i = dirty.nextSetBit(0);
        while (i >= 0 && i < bitmapBits) {
            int j = dirty.nextClearBit(i);
            long sector = (long) i * (BITMAP_GRANULARITY >> 9);
            long count = (long) (j - i) * (BITMAP_GRANULARITY >> 9);
            if (sector >= metadataSectors) {
                break;
            }
            if (sector + count > metadataSectors) {
                count = metadataSectors - sector;
            }
            ssd.write(startSector + sector, slice(sector << 9, count << 9), false);
            i = dirty.nextSetBit(j);
        }
    }

    void clearDirty() {
        dirty.clear();
    }

    /** {@code ssd_commit_superblock}: the first {@code max(4096, block_size)} bytes (clamped) with FUA. */
    void writeSuperblock(BlockDevice ssd, long startSector, long metadataSectors, int blockSize) throws IOException {
        long count = Math.min(Math.max(4096, blockSize) >> 9, metadataSectors);
        ssd.write(startSector, slice(0, count << 9), true);
    }

    /** {@code writecache_read_metadata}: read {@code nSectors} from {@code startSector}. */
    void read(BlockDevice ssd, long startSector, long nSectors) throws IOException {
        ssd.read(startSector, slice(0, nSectors << 9));
    }

    /** Fill {@code [off, end)} with 0xff (all entries free after a failed metadata read). */
    void fillOnes(long off) {
        for (int p = (int) off; p < mem.capacity(); p++) {
            mem.put(p, (byte) -1);
        }
    }

    private ByteBuffer slice(long off, long len) {
        ByteBuffer b = mem.duplicate();
        b.limit((int) (off + len)).position((int) off);
        return b;
    }

    @Override
    public void close() {}
}
