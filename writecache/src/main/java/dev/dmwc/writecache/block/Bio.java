package dev.dmwc.writecache.block;

import java.nio.ByteBuffer;

/**
 * A bio as a target's {@code map} sees it: op, flags, the current sector and size (both move as
 * the target advances through it or accepts only part of it), and the payload whose position
 * follows the current sector.
 */
public final class Bio {
    public enum Op { READ, WRITE, DISCARD }

    public static final int REQ_PREFLUSH = 1;
    public static final int REQ_FUA = 1 << 1;
    public static final int REQ_META = 1 << 2;
    public static final int REQ_SYNC = 1 << 3;

    public final Op op;
    public final int flags;
    /** {@code bi_iter.bi_sector}. */
    public long sector;
    /** {@code bi_iter.bi_size} in bytes. */
    public int size;
    /** Payload; position = the byte of {@code sector}. Null for discards and empty flushes. */
    public final ByteBuffer data;
    /** {@code dm_bio_get_target_bio_nr} (flush clones). */
    public final int targetBioNr;
    /** Bytes consumed by the target itself ({@code bio_advance}). */
    public int advanced;
    /** Where a REMAP goes: the cache device at this sector. */
    public long remapSector = -1;

    public Bio(Op op, int flags, long sector, int size, ByteBuffer data, int targetBioNr) {
        this.op = op;
        this.flags = flags;
        this.sector = sector;
        this.size = size;
        this.data = data;
        this.targetBioNr = targetBioNr;
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }

    public int sectors() {
        return size >>> BlockDevice.SECTOR_SHIFT;
    }

    /** {@code bio_advance}: the target handled {@code bytes} itself. */
    public void advance(int bytes) {
        sector += bytes >>> BlockDevice.SECTOR_SHIFT;
        size -= bytes;
        advanced += bytes;
        if (data != null) {
            data.position(data.position() + bytes);
        }
    }

    /** {@code dm_accept_partial_bio}: handle only the first {@code nSectors}; DM resubmits the rest. */
    public void acceptPartial(long nSectors) {
        if (nSectors <= 0 || (nSectors << BlockDevice.SECTOR_SHIFT) > size) {
            throw new IllegalArgumentException("accept_partial " + nSectors + " of a " + sectors() + "-sector bio");
        }
        size = (int) (nSectors << BlockDevice.SECTOR_SHIFT);
    }

    /** The payload slice of the current part, {@code size} bytes from the current position. */
    public ByteBuffer currentData() {
        ByteBuffer d = data.duplicate();
        d.limit(d.position() + size);
        return d;
    }
}
