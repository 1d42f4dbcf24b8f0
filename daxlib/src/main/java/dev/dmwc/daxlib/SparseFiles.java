package dev.dmwc.daxlib;

import java.nio.file.Path;

/**
 * Holes in device files: a discard on a file-backed device deallocates the range, as a loop
 * device or QEMU's {@code discard=unmap} does, instead of writing zeros over it. A discard of a
 * whole multi-GiB device (mke2fs sends one) then costs one system call and frees the memory of a
 * file under /dev/shm, rather than filling it.
 */
public final class SparseFiles {
    private SparseFiles() {}

    /**
     * {@code fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)} over {@code [offset, offset +
     * length)} of {@code file}: the range reads back as zeros afterwards, through any descriptor
     * or shared mapping of the file. Returns false, having changed nothing, where that is not
     * available (libc through JNA missing, a file system without hole punching): callers then
     * write zeros.
     */
    public static boolean punchHole(Path file, long offset, long length) {
        if (length == 0) {
            return true;
        }
        try {
            Posix.requireLoaded();
        } catch (IllegalStateException e) {
            return false;
        }
        int fd = Posix.open(file.toString(), Posix.O_WRONLY | Posix.O_CLOEXEC);
        if (fd < 0) {
            return false;
        }
        try {
            return Posix.fallocate(fd, Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE, offset, length) == 0;
        } finally {
            Posix.close(fd);
        }
    }
}
