package dev.dmwc.writecache.block;

import dev.dmwc.daxlib.SparseFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** A block device addressed in 512-byte sectors. Implementations are thread-safe. */
public interface BlockDevice extends AutoCloseable {
    int SECTOR_SHIFT = 9;
    int SECTOR_SIZE = 512;

    long sizeBytes();

    default long sizeSectors() {
        return sizeBytes() >> SECTOR_SHIFT;
    }

    /** Logical block size (512 for files). */
    default int logicalBlockSize() {
        return SECTOR_SIZE;
    }

    /** Read {@code dst.remaining()} bytes at {@code sector} into {@code dst} (consumed). */
    void read(long sector, ByteBuffer dst) throws IOException;

    /** Write {@code src.remaining()} bytes at {@code sector}; {@code fua}: durable on return. */
    void write(long sector, ByteBuffer src, boolean fua) throws IOException;

    /**
     * {@link #write(long, ByteBuffer, boolean)}, running {@code queued} as soon as the write has its
     * place in the device's queue, before it completes: writes submitted from several threads in
     * turn (each waiting for the one before to be queued) then reach the device in that order, as
     * bios submitted by one thread do. A device without a queue runs it first.
     */
    default void write(long sector, ByteBuffer src, boolean fua, Runnable queued) throws IOException {
        queued.run();
        write(sector, src, fua);
    }

    /**
     * Whether how long requests take depends on the order they reach the device's queue (a disk
     * model, which serves them by head position): writers that submit in an order then keep it
     * ({@link #write(long, ByteBuffer, boolean, Runnable)}). Others need not pay for it.
     */
    default boolean orderSensitive() {
        return false;
    }

    /** An empty PREFLUSH: everything completed before is durable. */
    void flush() throws IOException;

    /** Discard: the range reads back as zeros afterwards (like QEMU {@code discard=unmap}). */
    void discard(long sector, long nSectors) throws IOException;

    /** A name for messages. */
    String name();

    /**
     * Fault every page of a memory-mapped device in now, contents unchanged, so that later I/O
     * pays no first-touch fault (on a sparse file in tmpfs, several µs a page on some VMs: a cost
     * of the emulation, not of any device). Nothing to do for a device that is not mapped.
     */
    default void touchAllPages() throws IOException {
    }

    @Override
    void close() throws IOException;

    /**
     * Discard on a device kept in {@code file}: punch a hole over the range (nothing written,
     * the file's blocks or tmpfs pages freed), or write zeros where the file system cannot.
     */
    static void punchHoleOrZeroFill(BlockDevice d, Path file, long sector, long nSectors) throws IOException {
        checkRange(d, sector, nSectors << SECTOR_SHIFT);
        if (!SparseFiles.punchHole(file, sector << SECTOR_SHIFT, nSectors << SECTOR_SHIFT)) {
            zeroFill(d, sector, nSectors);
        }
    }

    /** Discard by writing zeros, 1 MiB at a time (for devices without a cheaper way). */
    static void zeroFill(BlockDevice d, long sector, long nSectors) throws IOException {
        checkRange(d, sector, nSectors << SECTOR_SHIFT);
        ByteBuffer z = ByteBuffer.allocateDirect((int) Math.min(nSectors << SECTOR_SHIFT, 1 << 20));
        for (long s = sector, end = sector + nSectors; s < end;) {
            int n = (int) Math.min(z.capacity() >> SECTOR_SHIFT, end - s);
            z.clear().limit(n << SECTOR_SHIFT);
            d.write(s, z, false);
            s += n;
        }
    }

    /** Bounds check shared by implementations: throws naming device, offset and length. */
    static void checkRange(BlockDevice d, long sector, long bytes) throws IOException {
        long size = d.sizeBytes();
        if (sector < 0 || bytes < 0 || (sector << SECTOR_SHIFT) + bytes > size) {
            throw new IOException("I/O beyond the device: device=" + d.name() + ", sector=" + sector + ", bytes="
                    + bytes + ", device bytes=" + size);
        }
    }
}
