package dev.dmwc.writecache.block;

import dev.dmwc.daxlib.DeviceDax;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What a device path names: a regular file (the usual, sparse under /dev/shm), a block device
 * (a loop device, a disk partition) used as it is, or, as a pmem cache only, a device-dax
 * ({@code /dev/daxN.M}). A device's size is its capacity, which {@link Files#size} reports as 0;
 * it is never created, truncated or extended.
 */
public final class DeviceFiles {
    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;

    private DeviceFiles() {}

    /** Whether {@code p} is a block device. */
    public static boolean isBlockDevice(Path p) {
        try {
            return (((Integer) Files.getAttribute(p, "unix:mode")) & S_IFMT) == S_IFBLK;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Takes the device file {@code p} for this process ({@link dev.dmwc.daxlib.DeviceLock}; a block device is
     * also opened exclusively, as the kernel opens it) when {@code now}, adding the lock to {@code locks},
     * which the caller closes with its devices.
     *
     * @throws dev.dmwc.daxlib.DeviceLock.InUse when another dmwc has it open
     */
    public static void lock(java.util.List<? super dev.dmwc.daxlib.DeviceLock> locks, Path p, boolean now) throws IOException {
        if (now) {
            dev.dmwc.daxlib.DeviceLock l = dev.dmwc.daxlib.DeviceLock.exclusive(p, isBlockDevice(p));
            if (l != null) {
                locks.add(l);
            }
        }
    }

    /**
     * Refuses a device path that exists and is neither a regular file nor a block device (a FIFO,
     * a character device such as /dev/null, a directory), naming it and what it is for.
     */
    public static void checkKind(Path p, String what) {
        if (Files.exists(p) && !Files.isRegularFile(p) && !isBlockDevice(p)) {
            if (DeviceDax.is(p)) {
                throw new IllegalArgumentException(what + " " + p + " is a device-dax: it can only be the cache of pmem mode "
                        + "(--mode p); it has no read or write, only mmap");
            }
            throw new IllegalArgumentException(what + " " + p + " is neither a regular file nor a block device");
        }
    }

    /**
     * {@link #checkKind} for the cache device: in pmem mode a device-dax is taken too, and a block
     * device refused (pmem mode maps its cache; a block device has no DAX mapping here).
     */
    public static void checkCacheKind(Path p, String what, boolean pmem) {
        if (pmem && DeviceDax.is(p)) {
            return;
        }
        checkKind(p, what);
        if (pmem && isBlockDevice(p)) {
            throw new IllegalArgumentException(what + " " + p + " is a block device: pmem mode maps its DAX range from a file or a "
                    + "device-dax (/dev/daxN.M; ndctl create-namespace --mode=devdax); ssd mode takes a block device");
        }
    }

    /** {@code length} bytes at {@code offset} of a device path (a device-dax through a mapping: it has no read). */
    public static byte[] read(Path p, long offset, int length) throws IOException {
        if (DeviceDax.is(p)) {
            return DeviceDax.read(p, offset, length);
        }
        byte[] b = new byte[length];
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b);
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) < 0) {
                    throw new IOException(p + ": ends before byte " + (offset + length));
                }
            }
        }
        return b;
    }

    /** The size in bytes of a device path: a regular file's length, a device's capacity. */
    public static long size(Path p) throws IOException {
        if (DeviceDax.is(p)) {
            return DeviceDax.size(p);
        }
        if (!isBlockDevice(p)) {
            return Files.size(p);
        }
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            return ch.size();
        }
    }
}
