package dev.dmwc.writecache.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A block device on a plain file. FUA and flush call {@code force} unless {@code durable} is
 * false (for files on tmpfs, where it is a no-op anyway, or for benchmarks of the cache alone).
 */
public final class FileBlockDevice implements BlockDevice {
    private final Path path;
    private final FileChannel ch;
    private final long size;
    private final boolean durable;

    private FileBlockDevice(Path path, FileChannel ch, long size, boolean durable) {
        this.path = path;
        this.ch = ch;
        this.size = size;
        this.durable = durable;
    }

    /** Open an existing file or block device; its size must be a multiple of 512. */
    public static FileBlockDevice open(Path path, boolean durable) throws IOException {
        if (!Files.isRegularFile(path) && !DeviceFiles.isBlockDevice(path)) {
            throw new IOException("no such device file: path=" + path);
        }
        long size = DeviceFiles.size(path);
        if (size == 0 || size % SECTOR_SIZE != 0) {
            throw new IOException("device file size must be a positive multiple of 512: have=" + size + ", path=" + path);
        }
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        return new FileBlockDevice(path, ch, size, durable);
    }

    /**
     * Open an existing file with {@code O_DIRECT} (bypassing the page cache, so a throttled or real
     * disk is measured, not RAM). Fails with an IOException where the file system refuses it
     * (tmpfs before Linux 6.6, for one); the JDK then bounces heap buffers through aligned ones.
     */
    public static FileBlockDevice openDirect(Path path) throws IOException {
        FileBlockDevice plain = open(path, true);
        plain.close();
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    com.sun.nio.file.ExtendedOpenOption.DIRECT);
        } catch (UnsupportedOperationException | IOException e) {
            throw new IOException("O_DIRECT refused for " + path + ": " + e.getMessage(), e);
        }
        return new FileBlockDevice(path, ch, plain.size, true);
    }

    /** Create (sparse, zero) or open a file of exactly {@code size} bytes; or open a block device of that size. */
    public static FileBlockDevice create(Path path, long size, boolean durable) throws IOException {
        if (size <= 0 || size % SECTOR_SIZE != 0) {
            throw new IOException("device size must be a positive multiple of 512: size=" + size + ", path=" + path);
        }
        if (DeviceFiles.isBlockDevice(path)) {
            long have = DeviceFiles.size(path);
            if (have != size) {
                throw new IOException("block device " + path + " has " + have + " bytes, not the " + size + " asked for");
            }
            return open(path, durable);
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            if (ch.size() != size) {
                ch.truncate(Math.min(ch.size(), size));
                if (ch.size() < size) {
                    ch.write(ByteBuffer.allocate(1), size - 1);
                }
            }
        }
        return open(path, durable);
    }

    public Path path() {
        return path;
    }

    @Override
    public long sizeBytes() {
        return size;
    }

    @Override
    public void read(long sector, ByteBuffer dst) throws IOException {
        BlockDevice.checkRange(this, sector, dst.remaining());
        long pos = sector << SECTOR_SHIFT;
        while (dst.hasRemaining()) {
            int r = ch.read(dst, pos);
            if (r < 0) {
                throw new IOException("short read: device=" + name() + ", position=" + pos);
            }
            pos += r;
        }
    }

    @Override
    public void write(long sector, ByteBuffer src, boolean fua) throws IOException {
        BlockDevice.checkRange(this, sector, src.remaining());
        long pos = sector << SECTOR_SHIFT;
        while (src.hasRemaining()) {
            pos += ch.write(src, pos);
        }
        if (fua && durable) {
            ch.force(false);
        }
    }

    @Override
    public void flush() throws IOException {
        if (durable) {
            ch.force(false);
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
