package dev.dmwc.daxlib;

import java.nio.file.Path;

/**
 * Holes in device files: a discard on a file-backed device deallocates the range, as a loop
 * device or QEMU's {@code discard=unmap} does, instead of writing zeros over it. A discard of a
 * whole multi-GiB device (mke2fs sends one) then costs one system call and frees the memory of a
 * file under /dev/shm, rather than filling it. And the other way: which ranges of a file hold data
 * ({@code SEEK_DATA}), and allocating a range before a mapping's first store there, so that a full
 * file system is an error where it can be reported rather than SIGBUS.
 */
public final class SparseFiles {
    private SparseFiles() {}

    private static final byte[] ZEROS = new byte[1 << 16];

    /**
     * Whether the first {@code n} bytes of {@code b} are all zero: a chunk a sparse copy leaves as a
     * hole. Chunks of any size; compared 64 KiB at a time ({@link java.util.Arrays#mismatch}).
     */
    public static boolean allZero(byte[] b, int n) {
        for (int off = 0; off < n; off += ZEROS.length) {
            int len = Math.min(ZEROS.length, n - off);
            if (java.util.Arrays.mismatch(b, off, off + len, ZEROS, 0, len) >= 0) {
                return false;
            }
        }
        return true;
    }

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
        if (!Posix.loaded()) {
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

    /**
     * {@code fallocate(fd, 0, offset, length)}: the range gets storage now (zeros where it was a
     * hole, data kept elsewhere), so that a shared mapping's stores there cannot fault for want of
     * space later: on a full tmpfs such a store raises SIGBUS, which the JVM turns into an
     * {@link InternalError} thrown at some later point of the thread, or a crash in native code.
     * Returns false where the file system cannot allocate ahead; throws, naming the file and the
     * range, when it cannot (ENOSPC: no space left on the device).
     */
    static boolean allocate(int fd, Path file, long offset, long length) throws java.io.IOException {
        while (true) {
            if (Posix.fallocate(fd, 0, offset, length) == 0) {
                return true;
            }
            int errno = Posix.errno();
            switch (errno) {
                case Posix.EINTR:
                    continue;
                case Posix.EOPNOTSUPP:
                    return false;
                case Posix.ENOSPC:
                    throw new java.io.IOException("no space left on the device under " + file + " for bytes " + offset + ".."
                            + (offset + length) + " of it (the file system is full)");
                case Posix.EFBIG:
                    throw new java.io.IOException("file too large for its file system: " + file + " up to byte " + (offset + length));
                default:
                    throw new java.io.IOException("cannot allocate bytes " + offset + ".." + (offset + length) + " of " + file
                            + ": errno " + errno);
            }
        }
    }

    /** {@link Allocator#dataRanges} of an open descriptor. */
    static long[] dataRanges(int fd, long size) {
        java.util.List<Long> r = new java.util.ArrayList<>();
        long pos = 0;
        while (pos < size) {
            long data = Posix.lseek(fd, pos, Posix.SEEK_DATA);
            if (data < 0) {
                if (Posix.errno() == Posix.ENXIO) {
                    break; // no data after pos
                }
                return null;
            }
            if (data >= size) {
                break;
            }
            long hole = Posix.lseek(fd, data, Posix.SEEK_HOLE);
            if (hole < 0) {
                return null;
            }
            r.add(data);
            r.add(Math.min(hole, size));
            pos = hole;
        }
        long[] a = new long[r.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.get(i);
        }
        return a;
    }

    /**
     * {@link #allocate} of all of the file's first {@code size} bytes, refused without a call when
     * its holes are larger than the space left on its file system (a file system may allocate part
     * of a range before it finds it cannot have all of it).
     */
    static void allocateWhole(int fd, Path file, long size) throws java.io.IOException {
        long[] data = dataRanges(fd, size);
        if (data != null) {
            long holes = size;
            for (int i = 0; i < data.length; i += 2) {
                holes -= data[i + 1] - data[i];
            }
            long free = java.nio.file.Files.getFileStore(file).getUsableSpace();
            if (holes > free) {
                throw new java.io.IOException(String.format(java.util.Locale.ROOT, "no space left on the device under %s to back it "
                        + "whole: its holes take %,d bytes and %,d are free there", file, holes, free));
            }
        }
        allocate(fd, file, 0, size);
    }

    /**
     * One file open for allocating ranges ahead of stores into its mapping, and for asking which of
     * its ranges hold data. Thread-safe.
     */
    public static final class Allocator implements AutoCloseable {
        private final Path file;
        private final int fd;

        private Allocator(Path file, int fd) {
            this.file = file;
            this.fd = fd;
        }

        /** Opens {@code file}; null where libc is not reachable (nothing is then allocated ahead). */
        public static Allocator open(Path file) throws java.io.IOException {
            if (!Posix.loaded()) {
                return null;
            }
            int fd = Posix.open(file.toString(), Posix.O_RDWR | Posix.O_CLOEXEC);
            if (fd < 0) {
                throw new java.io.IOException("cannot open " + file + ": errno " + Posix.errno());
            }
            return new Allocator(file, fd);
        }

        /** {@link SparseFiles#allocate}: false where the file system cannot allocate ahead. */
        public boolean allocate(long offset, long length) throws java.io.IOException {
            return SparseFiles.allocate(fd, file, offset, length);
        }

        /**
         * The ranges of the first {@code size} bytes that hold data, as {@code [start, end)} pairs
         * ({@code SEEK_DATA}/{@code SEEK_HOLE}); everything else reads as zeros. null where the file
         * system cannot say.
         */
        public long[] dataRanges(long size) {
            return SparseFiles.dataRanges(fd, size);
        }

        @Override
        public void close() {
            Posix.close(fd);
        }
    }
}
