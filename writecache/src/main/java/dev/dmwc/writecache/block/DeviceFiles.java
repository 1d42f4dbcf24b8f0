package dev.dmwc.writecache.block;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What a device path names: a regular file (the usual, sparse under /dev/shm), or a block device
 * (a loop device, a disk partition) used as it is. A block device's size is its capacity, which
 * {@link Files#size} reports as 0; it is never created, truncated or extended.
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
            throw new IllegalArgumentException(what + " " + p + " is neither a regular file nor a block device");
        }
    }

    /** The size in bytes of a device path: a regular file's length, a block device's capacity. */
    public static long size(Path p) throws IOException {
        if (!isBlockDevice(p)) {
            return Files.size(p);
        }
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            return ch.size();
        }
    }
}
