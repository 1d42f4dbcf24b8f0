package dev.dmwc.writecache.block;

import dev.dmwc.daxlib.Prefault;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A block device on a memory-mapped file: reads and writes are copies, no system call per I/O
 * (what replay uses for its sparse device files under /dev/shm). Flush and FUA {@code force()}
 * the mapping when {@code durable}. The file is seen through views of 1 GiB.
 *
 * <p>The device knows which of the file's pages hold data (at open, from {@code SEEK_DATA}; then
 * its own writes and discards). A store into a hole of a shared mapping allocates a page, and
 * where the file system is full that is SIGBUS, which the JVM delivers as an
 * {@link InternalError} at some later point of the thread, far from the write: so the first write
 * to a hole allocates it with {@code fallocate} first, and a full file system fails that write
 * with an {@link IOException} (the engine's path for a device error), before the mapping is
 * touched. Reads of holes are zeros, never read faults (which would allocate tmpfs pages).
 *
 * <p>A discard and the I/O on the pages it covers do not overlap: each view has a lock that reads
 * and writes hold shared from their look at the page bits to their copy, and a discard exclusive
 * while it clears the bits and punches the hole. Without it, a write to a page already written
 * could find its bit set, the discard then clear it and punch the hole, and the write's store fill
 * the hole again unmarked (zeros through the device, the data in the file; on a full file system,
 * SIGBUS); a read could likewise fault a hole in. A device that takes no discards
 * ({@link #createWithoutDiscards}: a cache device, which dm-writecache never discards, or bench's
 * copy baseline) has no locks, and its I/O shares no state between threads.
 */
public final class MappedBlockDevice implements BlockDevice {
    private static final int SHIFT = 30;
    private static final long VIEW = 1L << SHIFT;
    private static final long MASK = VIEW - 1;

    private final Path path;
    private final FileChannel ch;
    private final long size;
    private final boolean durable;
    private final MappedByteBuffer[] views;
    /**
     * Which of the file's 4 KiB pages hold data, one bitmap a view (made on the view's first
     * write): a read of the others is answered with zeros without touching the mapping, where a
     * read fault on a hole of a tmpfs file allocates a page (a read-mostly trace over a large volume
     * filled /dev/shm with zeros), and a write to them allocates them first.
     */
    private final AtomicReferenceArray<AtomicLongArray> written;
    /** Allocates holes ahead of stores; null where libc is not reachable (then a full file system can fault). */
    private final dev.dmwc.daxlib.SparseFiles.Allocator allocator;
    /** A view's I/O (shared) against its discards (exclusive); see the class comment. null: no discards. */
    private final ReentrantReadWriteLock[] gates;
    private static final int PAGE_SHIFT = 12;
    private static final int PAGES_PER_VIEW_SHIFT = SHIFT - PAGE_SHIFT;

    private MappedBlockDevice(Path path, FileChannel ch, long size, boolean durable, boolean fresh, boolean discards)
            throws IOException {
        this.path = path;
        this.ch = ch;
        this.size = size;
        this.durable = durable;
        int n = (int) ((size + MASK) >>> SHIFT);
        written = new AtomicReferenceArray<>(n);
        gates = discards ? new ReentrantReadWriteLock[n] : null;
        for (int i = 0; discards && i < n; i++) {
            gates[i] = new ReentrantReadWriteLock();
        }
        allocator = dev.dmwc.daxlib.SparseFiles.Allocator.open(path);
        if (!fresh) {
            long[] data = allocator == null ? null : allocator.dataRanges(size);
            if (data == null) {
                data = new long[] {0, size}; // nothing to go by: all of it may hold data
            }
            for (int i = 0; i < data.length; i += 2) {
                markWritten(data[i], data[i + 1]);
            }
        }
        views = new MappedByteBuffer[n];
        try {
            for (int i = 0; i < n; i++) {
                long start = (long) i << SHIFT;
                views[i] = ch.map(FileChannel.MapMode.READ_WRITE, start, Math.min(VIEW, size - start));
            }
        } catch (IOException | RuntimeException e) {
            if (allocator != null) {
                allocator.close();
            }
            throw e;
        }
    }

    /**
     * Create (sparse, zero) a file of {@code size} bytes, or open one of that size, and map it.
     *
     * @throws IllegalArgumentException before the file is touched, when its views would take more
     *         of the process's mappings than are left ({@link #checkMappable})
     */
    public static MappedBlockDevice create(Path path, long size, boolean durable) throws IOException {
        return create(path, size, durable, true);
    }

    /**
     * {@link #create}, for a device that is never discarded (a cache device, a copy baseline): its
     * I/O takes no lock, and a discard is refused with an {@link IOException}.
     */
    public static MappedBlockDevice createWithoutDiscards(Path path, long size, boolean durable) throws IOException {
        return create(path, size, durable, false);
    }

    private static MappedBlockDevice create(Path path, long size, boolean durable, boolean discards) throws IOException {
        checkMappable(size);
        boolean fresh = !java.nio.file.Files.exists(path);
        FileBlockDevice.create(path, size, false).close();
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            return new MappedBlockDevice(path, ch, size, durable, fresh, discards);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Mappings kept free for the JVM (heap, thread stacks, libraries) and the other device. */
    static final long MAPPINGS_HEADROOM = 16_384;

    /**
     * A device is mapped as one view a GiB, and a process has at most {@code vm.max_map_count}
     * mappings (65,530 by default): a 64 TiB device took all of them, and the JVM died at its next
     * allocation. Refuses a size whose views would leave fewer than {@link #MAPPINGS_HEADROOM}.
     * Callers about to map several devices check their sizes' sum first, before making any.
     */
    public static void checkMappable(long size) {
        long views = (size + MASK) >>> SHIFT;
        long max = readLong(Path.of("/proc/sys/vm/max_map_count"));
        if (max < 0) {
            return; // not Linux, or not readable: nothing to go by
        }
        long used;
        try (var lines = java.nio.file.Files.lines(Path.of("/proc/self/maps"))) {
            used = lines.count();
        } catch (IOException | java.io.UncheckedIOException e) {
            used = 0;
        }
        long left = max - used - MAPPINGS_HEADROOM;
        if (views > left) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "mapped devices of %,d bytes in all take %,d "
                    + "mappings of 1 GiB, and this process has %,d left of vm.max_map_count %,d (keeping %,d for the JVM): at most "
                    + "%,d GiB here; give a smaller size, or raise vm.max_map_count", size, views, Math.max(0, max - used), max,
                    MAPPINGS_HEADROOM, Math.max(0, left)));
        }
    }

    private static long readLong(Path p) {
        // a line at a time: Files.readString of a /proc file (size 0) returned only its first byte
        try (var r = java.nio.file.Files.newBufferedReader(p)) {
            String line = r.readLine();
            return line == null ? -1 : Long.parseLong(line.trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Fault every page of the mapping in now, writable, contents unchanged ({@link Prefault#beforeUse}):
     * later I/O then pays no first-touch fault (on some VMs several µs a page, more than the copy it
     * interrupts). Takes the file's size in memory at once.
     */
    @Override
    public void touchAllPages() throws IOException {
        if (allocator != null) {
            allocator.allocate(0, size); // a full file system refuses here, not in a fault
        }
        markWritten(0, size);
        for (MappedByteBuffer v : views) {
            Prefault.beforeUse(v, name());
        }
    }

    @Override
    public long sizeBytes() {
        return size;
    }

    /** What a page never written reads as (a small read is at most one page at a time from it). */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << PAGE_SHIFT).asReadOnlyBuffer();

    @Override
    public void read(long sector, ByteBuffer dst) throws IOException {
        BlockDevice.checkRange(this, sector, dst.remaining());
        long pos = sector << SECTOR_SHIFT;
        long end = pos + dst.remaining();
        lockShared(pos, end);
        try {
            readTracked(pos, dst);
        } finally {
            unlockShared(pos, end);
        }
    }

    /** Takes the gates of the views under {@code [from, to)} shared, in view order. */
    private void lockShared(long from, long to) {
        if (gates == null || to <= from) {
            return; // no lock, or no I/O (an empty one at the very end would name a view past the last)
        }
        for (long v = from >>> SHIFT, last = (to - 1) >>> SHIFT; v <= last; v++) {
            gates[(int) v].readLock().lock();
        }
    }

    private void unlockShared(long from, long to) {
        if (gates == null || to <= from) {
            return; // as lockShared
        }
        for (long v = from >>> SHIFT, last = (to - 1) >>> SHIFT; v <= last; v++) {
            gates[(int) v].readLock().unlock();
        }
    }

    /**
     * A read: zeros for pages holding no data (their holes are not faulted in), and each stretch
     * of pages with data copied out of the mapping at once.
     */
    private void readTracked(long pos, ByteBuffer dst) {
        final int pageSize = 1 << PAGE_SHIFT;
        while (dst.hasRemaining()) {
            boolean isWritten = isWritten(pos >>> PAGE_SHIFT);
            // this page's part, then following pages alike, within the view and the read
            long end = Math.min(pos + dst.remaining(), (pos | MASK) + 1);
            long stretch = Math.min(end, (pos | (pageSize - 1)) + 1);
            while (stretch < end && isWritten(stretch >>> PAGE_SHIFT) == isWritten) {
                stretch = Math.min(end, stretch + pageSize);
            }
            int c = (int) (stretch - pos);
            if (isWritten) {
                dst.put(dst.position(), views[(int) (pos >>> SHIFT)], (int) (pos & MASK), c);
                dst.position(dst.position() + c);
            } else {
                for (int left = c; left > 0; left -= Math.min(left, pageSize)) {
                    dst.put(dst.position(), ZEROS, 0, Math.min(left, pageSize));
                    dst.position(dst.position() + Math.min(left, pageSize));
                }
            }
            pos += c;
        }
    }

    private boolean isWritten(long page) {
        AtomicLongArray bits = written.get((int) (page >>> PAGES_PER_VIEW_SHIFT));
        if (bits == null) {
            return false;
        }
        int i = (int) (page & ((1 << PAGES_PER_VIEW_SHIFT) - 1));
        return (bits.get(i >>> 6) & (1L << (i & 63))) != 0;
    }

    /** Marks the pages under {@code [from, to)} written (after their data is in the mapping). */
    private void markWritten(long from, long to) {
        for (long page = from >>> PAGE_SHIFT, end = (to + (1 << PAGE_SHIFT) - 1) >>> PAGE_SHIFT; page < end;) {
            int v = (int) (page >>> PAGES_PER_VIEW_SHIFT);
            AtomicLongArray bits = written.get(v);
            if (bits == null) {
                written.compareAndSet(v, null, new AtomicLongArray(1 << (PAGES_PER_VIEW_SHIFT - 6)));
                bits = written.get(v);
            }
            int i = (int) (page & ((1 << PAGES_PER_VIEW_SHIFT) - 1));
            int n = (int) Math.min(end - page, 64 - (i & 63)); // a word never spans two views
            long mask = (n == 64 ? -1L : (1L << n) - 1) << (i & 63);
            if ((bits.get(i >>> 6) & mask) != mask) {
                bits.getAndAccumulate(i >>> 6, mask, (a, b) -> a | b);
            }
            page += n;
        }
    }

    /** Marks the pages wholly inside {@code [from, to)} never written again (a hole was punched there). */
    private void markHole(long from, long to) {
        for (long page = (from + (1 << PAGE_SHIFT) - 1) >>> PAGE_SHIFT, end = to >>> PAGE_SHIFT; page < end;) {
            int v = (int) (page >>> PAGES_PER_VIEW_SHIFT);
            int i = (int) (page & ((1 << PAGES_PER_VIEW_SHIFT) - 1));
            int n = (int) Math.min(end - page, 64 - (i & 63));
            AtomicLongArray bits = written.get(v);
            if (bits != null) {
                long mask = (n == 64 ? -1L : (1L << n) - 1) << (i & 63);
                bits.getAndAccumulate(i >>> 6, ~mask, (a, b) -> a & b);
            }
            page += n;
        }
    }

    /** Whether every page under {@code [from, to)} holds data already. */
    private boolean allWritten(long from, long to) {
        for (long page = from >>> PAGE_SHIFT, end = (to + (1 << PAGE_SHIFT) - 1) >>> PAGE_SHIFT; page < end;) {
            AtomicLongArray bits = written.get((int) (page >>> PAGES_PER_VIEW_SHIFT));
            int i = (int) (page & ((1 << PAGES_PER_VIEW_SHIFT) - 1));
            int n = (int) Math.min(end - page, 64 - (i & 63));
            long mask = (n == 64 ? -1L : (1L << n) - 1) << (i & 63);
            if (bits == null || (bits.get(i >>> 6) & mask) != mask) {
                return false;
            }
            page += n;
        }
        return true;
    }

    @Override
    public void write(long sector, ByteBuffer src, boolean fua) throws IOException {
        BlockDevice.checkRange(this, sector, src.remaining());
        long pos = sector << SECTOR_SHIFT;
        long start = pos;
        long end = start + src.remaining();
        lockShared(start, end);
        try {
            boolean backed = allWritten(start, end);
            if (!backed && allocator != null) {
                long from = start & ~((1L << PAGE_SHIFT) - 1);
                allocator.allocate(from, Math.min(size, (end + (1 << PAGE_SHIFT) - 1) & ~((1L << PAGE_SHIFT) - 1)) - from);
            }
            while (src.hasRemaining()) {
                int c = (int) Math.min(src.remaining(), VIEW - (pos & MASK));
                views[(int) (pos >>> SHIFT)].put((int) (pos & MASK), src, src.position(), c);
                src.position(src.position() + c);
                pos += c;
            }
            if (!backed) {
                markWritten(start, pos);
            }
        } finally {
            unlockShared(start, end);
        }
        if (fua && durable) {
            force(start, pos - start);
        }
    }

    private void force(long from, long len) {
        for (long p = from; p < from + len;) {
            int c = (int) Math.min(from + len - p, VIEW - (p & MASK));
            views[(int) (p >>> SHIFT)].force((int) (p & MASK), c);
            p += c;
        }
    }

    @Override
    public void flush() {
        if (durable) {
            for (MappedByteBuffer v : views) {
                v.force();
            }
        }
    }

    @Override
    public void discard(long sector, long nSectors) throws IOException {
        BlockDevice.checkRange(this, sector, nSectors << SECTOR_SHIFT);
        if (gates == null) {
            throw new IOException("discard refused: " + path + " was opened as a device that takes no discards");
        }
        // a view at a time, its I/O held off (the class comment says why); the bits go before
        // the data, and zeros written where no hole can be punched set them again (a write
        // under the exclusive gate takes it shared as well)
        for (long from = sector << SECTOR_SHIFT, end = (sector + nSectors) << SECTOR_SHIFT; from < end;) {
            long to = Math.min(end, (from | MASK) + 1);
            ReentrantReadWriteLock.WriteLock gate = gates[(int) (from >>> SHIFT)].writeLock();
            gate.lock();
            try {
                markHole(from, to);
                BlockDevice.punchHoleOrZeroFill(this, path, from >>> SECTOR_SHIFT, (to - from) >>> SECTOR_SHIFT);
            } finally {
                gate.unlock();
            }
            from = to;
        }
    }

    @Override
    public String name() {
        return path.toString();
    }

    @Override
    public void close() throws IOException {
        if (allocator != null) {
            allocator.close();
        }
        ch.close();
    }
}
