package dev.dmwc.writecache.nbd;

import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The writecache target as an NBD export. Requests the cache block does not divide are
 * read-modify-written; those hold an exclusive lock so that two partial writes into one block
 * cannot lose each other, aligned requests share it. TRIM discards the whole blocks inside the
 * range (a hint: the partial ends are left alone); WRITE_ZEROES writes zeros.
 */
public final class CacheExport implements Export {
    private final WritecacheTarget target;
    private final int blockSize;
    private final long size;
    private final ReadWriteLock rmw = new ReentrantReadWriteLock();

    public CacheExport(WritecacheTarget target) {
        this.target = target;
        this.blockSize = target.engine().blockSize();
        this.size = target.lengthSectors() << 9;
    }

    public WritecacheTarget target() {
        return target;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int preferredBlockSize() {
        return blockSize;
    }

    private boolean aligned(long offset, long length) {
        return offset % blockSize == 0 && length % blockSize == 0;
    }

    static int errno(String name) {
        if (name == null) {
            return 0;
        }
        return switch (name) {
            case "EINVAL" -> Nbd.EINVAL;
            case "ENOSPC" -> Nbd.ENOSPC;
            default -> Nbd.EIO;
        };
    }

    @Override
    public int read(long offset, ByteBuffer dst) {
        int length = dst.remaining();
        if (aligned(offset, length)) {
            rmw.readLock().lock();
            try {
                return errno(target.submit(Bio.Op.READ, 0, offset >> 9, length, dst));
            } finally {
                rmw.readLock().unlock();
            }
        }
        rmw.writeLock().lock();
        try {
            return readUnaligned(offset, dst);
        } finally {
            rmw.writeLock().unlock();
        }
    }

    private int readUnaligned(long offset, ByteBuffer dst) {
        long a0 = Math.floorDiv(offset, blockSize) * blockSize;
        long a1 = ceil(offset + dst.remaining());
        ByteBuffer whole = ByteBuffer.allocate((int) (a1 - a0));
        int err = errno(target.submit(Bio.Op.READ, 0, a0 >> 9, whole.capacity(), whole));
        if (err == 0) {
            whole.clear().position((int) (offset - a0)).limit((int) (offset - a0) + dst.remaining());
            dst.put(whole);
        }
        return err;
    }

    private long ceil(long x) {
        return (x + blockSize - 1) / blockSize * blockSize;
    }

    @Override
    public int write(long offset, ByteBuffer src, boolean fua) {
        int length = src.remaining();
        int flags = fua ? Bio.REQ_FUA : 0;
        if (aligned(offset, length)) {
            rmw.readLock().lock();
            try {
                return errno(target.submit(Bio.Op.WRITE, flags, offset >> 9, length, src));
            } finally {
                rmw.readLock().unlock();
            }
        }
        rmw.writeLock().lock();
        try {
            long a0 = Math.floorDiv(offset, blockSize) * blockSize;
            long a1 = ceil(offset + length);
            ByteBuffer whole = ByteBuffer.allocate((int) (a1 - a0));
            int err = errno(target.submit(Bio.Op.READ, 0, a0 >> 9, whole.capacity(), whole));
            if (err != 0) {
                return err;
            }
            whole.clear().position((int) (offset - a0));
            whole.put(src);
            whole.clear();
            return errno(target.submit(Bio.Op.WRITE, flags, a0 >> 9, whole.capacity(), whole));
        } finally {
            rmw.writeLock().unlock();
        }
    }

    @Override
    public int flush() {
        return errno(target.flush());
    }

    @Override
    public int trim(long offset, long length, boolean fua) {
        long a = ceil(offset);
        long b = Math.floorDiv(offset + length, blockSize) * blockSize;
        int err = 0;
        if (b > a) {
            rmw.readLock().lock();
            try {
                for (long p = a; p < b && err == 0;) {
                    int n = (int) Math.min(b - p, 1L << 30);
                    err = errno(target.submit(Bio.Op.DISCARD, 0, p >> 9, n, null));
                    p += n;
                }
            } finally {
                rmw.readLock().unlock();
            }
        }
        if (err == 0 && fua) {
            err = flush();
        }
        return err;
    }

    @Override
    public int writeZeroes(long offset, long length, boolean fua) {
        int chunk = (int) Math.min(length, 1 << 20);
        ByteBuffer zeros = ByteBuffer.allocate(chunk);
        int err = 0;
        for (long p = offset, end = offset + length; p < end && err == 0;) {
            int n = (int) Math.min(chunk, end - p);
            zeros.clear().limit(n);
            err = write(p, zeros, fua);
            p += n;
        }
        return err;
    }
}
