package dev.dmwc.daxlib;

import com.sun.jna.Native;
import com.sun.jna.Platform;

/** The few libc calls daxlib needs, through JNA direct mapping. Package-private: nothing above daxlib sees JNA. */
final class Posix {
    static final int PROT_NONE = 0;
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 1;
    static final int MAP_SHARED_VALIDATE = 3;
    static final int MAP_SYNC = 0x80000;
    static final int MS_SYNC = 4;
    static final long MAP_FAILED = -1L;
    static final int PKEY_DISABLE_ACCESS = 1;

    private static final Throwable LOAD_ERROR;

    static {
        Throwable err = null;
        try {
            Native.register(Posix.class, Platform.C_LIBRARY_NAME);
        } catch (Throwable t) {
            err = t;
        }
        LOAD_ERROR = err;
    }

    private Posix() {}

    /** Whether libc was reached (callers that can do without it check this). */
    static boolean loaded() {
        return LOAD_ERROR == null;
    }

    static void requireLoaded() {
        if (LOAD_ERROR != null) {
            throw new IllegalStateException("libc through JNA unavailable: " + LOAD_ERROR, LOAD_ERROR);
        }
    }

    static native long mmap(long addr, long length, int prot, int flags, int fd, long offset);

    static native int munmap(long addr, long length);

    static native int mprotect(long addr, long length, int prot);

    static native int msync(long addr, long length, int flags);

    static native int open(String path, int flags);

    static native int close(int fd);

    static native int fallocate(int fd, int mode, long offset, long len);

    static native long lseek(int fd, long offset, int whence);

    static native int flock(int fd, int operation);

    static native int madvise(long addr, long length, int advice);

    static native int pkey_alloc(int flags, int accessRights);

    static native int pkey_free(int pkey);

    static native int pkey_mprotect(long addr, long length, int prot, int pkey);

    static native int pkey_set(int pkey, int accessRights);

    static native int pkey_get(int pkey);

    static int errno() {
        return Native.getLastError();
    }

    static final int O_RDWR = 2;
    static final int O_WRONLY = 1;
    static final int O_CLOEXEC = 0x80000;
    static final int FALLOC_FL_KEEP_SIZE = 1;
    static final int FALLOC_FL_PUNCH_HOLE = 2;
    static final int O_RDONLY = 0;
    static final int LOCK_SH = 1;
    static final int LOCK_EX = 2;
    static final int LOCK_NB = 4;
    static final int EWOULDBLOCK = 11;
    static final int EBUSY = 16;
    static final int O_EXCL = 0200;
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;
    static final int EINTR = 4;
    static final int ENXIO = 6;
    static final int EFBIG = 27;
    static final int ENOSPC = 28;
    static final int EOPNOTSUPP = 95;
    static final int EINVAL = 22;
    static final int EFAULT = 14;
    static final int ENOMEM = 12;
    static final int MADV_POPULATE_WRITE = 23;
}
