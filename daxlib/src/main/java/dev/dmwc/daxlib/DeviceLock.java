package dev.dmwc.daxlib;

import java.io.IOException;
import java.nio.file.Path;

/**
 * One process at a time on a device file, as the kernel opens a target's devices exclusively (a
 * second table on a device in use fails): an exclusive {@code flock(2)} held while the device is
 * open. flock, not {@link java.nio.channels.FileLock}: the JDK's locks are POSIX record locks,
 * which the process loses when it closes any descriptor of the file (a hole punched through a
 * descriptor of its own would drop it). Advisory: it keeps dmwc processes apart, not other programs.
 */
public final class DeviceLock implements AutoCloseable {
    /** The device file is held by another process. */
    public static final class InUse extends IOException {
        private static final long serialVersionUID = 1L;

        InUse(String message) {
            super(message);
        }
    }

    private final int fd;

    private DeviceLock(int fd) {
        this.fd = fd;
    }

    /**
     * Takes {@code file} for this process; null where libc is not reachable (nothing is then held).
     * A block device is also opened with {@code O_EXCL}, as the kernel opens a target's devices:
     * one mounted, in a device-mapper table or otherwise claimed is refused, and none of those can
     * claim it while dmwc has it.
     *
     * @throws InUse when another process holds it
     */
    public static DeviceLock exclusive(Path file, boolean blockDevice) throws IOException {
        int fd;
        if (blockDevice) {
            if (!Posix.loaded()) {
                return null;
            }
            fd = Posix.open(file.toString(), Posix.O_RDONLY | Posix.O_CLOEXEC | Posix.O_EXCL);
            if (fd < 0) {
                int errno = Posix.errno();
                if (errno == Posix.EBUSY) {
                    throw new InUse(file + " is in use: mounted, in a device-mapper table, or opened exclusively by another "
                            + "program");
                }
                throw new IOException("cannot open " + file + ": errno " + errno);
            }
        } else {
            fd = openForLock(file);
            if (fd < 0) {
                return null;
            }
        }
        if (Posix.flock(fd, Posix.LOCK_EX | Posix.LOCK_NB) != 0) {
            int errno = Posix.errno();
            Posix.close(fd);
            if (errno == Posix.EWOULDBLOCK) {
                throw new InUse(file + " is in use by another dmwc (a serve, replay or bench on it)");
            }
            throw new IOException("cannot lock " + file + ": errno " + errno);
        }
        return new DeviceLock(fd);
    }

    /** Whether another process holds {@code file} exclusively now (false where that cannot be told). */
    public static boolean inUse(Path file) {
        int fd;
        try {
            fd = openForLock(file);
        } catch (IOException e) {
            return false;
        }
        if (fd < 0) {
            return false;
        }
        try {
            boolean busy = Posix.flock(fd, Posix.LOCK_SH | Posix.LOCK_NB) != 0 && Posix.errno() == Posix.EWOULDBLOCK;
            return busy; // a shared lock taken here goes with the descriptor
        } finally {
            Posix.close(fd);
        }
    }

    private static int openForLock(Path file) throws IOException {
        if (!Posix.loaded()) {
            return -1;
        }
        int fd = Posix.open(file.toString(), Posix.O_RDONLY | Posix.O_CLOEXEC);
        if (fd < 0) {
            throw new IOException("cannot open " + file + ": errno " + Posix.errno());
        }
        return fd;
    }

    @Override
    public void close() {
        Posix.close(fd); // the lock goes with its descriptor
    }
}
