package dev.dmwc.writecache.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A block device on a memory-mapped file: reads and writes are copies, no system call per I/O
 * (what replay uses for its sparse device files under /dev/shm). Flush and FUA {@code force()}
 * the mapping when {@code durable}. The file is seen through views of 1 GiB.
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

    private MappedBlockDevice(Path path, FileChannel ch, long size, boolean durable) throws IOException {
        this.path = path;
        this.ch = ch;
        this.size = size;
        this.durable = durable;
        int n = (int) ((size + MASK) >>> SHIFT);
        views = new MappedByteBuffer[n];
        for (int i = 0; i < n; i++) {
            long start = (long) i << SHIFT;
            views[i] = ch.map(FileChannel.MapMode.READ_WRITE, start, Math.min(VIEW, size - start));
        }
    }

    /**
     * Create (sparse, zero) a file of {@code size} bytes, or open one of that size, and map it.
     *
     * @throws IllegalArgumentException before the file is touched, when its views would take more
     *         of the process's mappings than are left ({@link #checkMappable})
     */
    public static MappedBlockDevice create(Path path, long size, boolean durable) throws IOException {
        checkMappable(size);
        FileBlockDevice.create(path, size, false).close();
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        return new MappedBlockDevice(path, ch, size, durable);
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
     * Fault every page of the mapping in now, writing each page's first byte back unchanged (so
     * any content is kept): later I/O then pays no first-touch fault (on some VMs several µs a page,
     * more than the copy it interrupts). Takes the file's size in memory at once.
     */
    @Override
    public void touchAllPages() {
        for (MappedByteBuffer v : views) {
            for (int p = 0; p < v.capacity(); p += 4096) {
                v.put(p, v.get(p));
            }
        }
    }

    @Override
    public long sizeBytes() {
        return size;
    }

    /**
     * Reads of this many bytes or more are {@code pread}s, not copies out of the mapping: a read
     * fault on a hole of a tmpfs file allocates a page, {@code pread} copies the zero page. A
     * final check that reads a 64 GiB sparse origin through the mapping would take 64 GiB of
     * memory under /dev/shm; at this size the system call costs little beside the copy.
     */
    public static final int PREAD_BYTES = 64 << 10;

    @Override
    public void read(long sector, ByteBuffer dst) throws IOException {
        BlockDevice.checkRange(this, sector, dst.remaining());
        long pos = sector << SECTOR_SHIFT;
        if (dst.remaining() >= PREAD_BYTES) {
            while (dst.hasRemaining()) {
                int r = ch.read(dst, pos);
                if (r < 0) {
                    throw new IOException("short read: device=" + name() + ", position=" + pos);
                }
                pos += r;
            }
            return;
        }
        while (dst.hasRemaining()) {
            int c = (int) Math.min(dst.remaining(), VIEW - (pos & MASK));
            dst.put(dst.position(), views[(int) (pos >>> SHIFT)], (int) (pos & MASK), c);
            dst.position(dst.position() + c);
            pos += c;
        }
    }

    @Override
    public void write(long sector, ByteBuffer src, boolean fua) throws IOException {
        BlockDevice.checkRange(this, sector, src.remaining());
        long pos = sector << SECTOR_SHIFT;
        long start = pos;
        while (src.hasRemaining()) {
            int c = (int) Math.min(src.remaining(), VIEW - (pos & MASK));
            views[(int) (pos >>> SHIFT)].put((int) (pos & MASK), src, src.position(), c);
            src.position(src.position() + c);
            pos += c;
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
        BlockDevice.punchHoleOrZeroFill(this, path, sector, nSectors);
    }

    @Override
    public String name() {
        return path.toString();
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
