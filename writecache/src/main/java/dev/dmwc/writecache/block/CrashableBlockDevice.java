package dev.dmwc.writecache.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A block device with a volatile write cache, in memory, for crash exploration: every write is
 * visible at once but durable only after a flush (or when it carries FUA). {@link #crashImage}
 * gives what a power cut could leave: the durable contents plus any subset of the writes not yet
 * flushed, applied in their order (a disk may have written some of its cache, in any order, but
 * each write's sectors are taken whole here).
 */
public final class CrashableBlockDevice implements BlockDevice {
    private final String name;
    private final byte[] current;
    private final byte[] durable;
    private final List<long[]> pending = new ArrayList<>(); // {offset, length, index into data}
    private final List<byte[]> pendingData = new ArrayList<>();
    private long flushes;
    private long fuaWrites;
    private volatile Runnable barrierListener;

    /** Called just before every persistence barrier (a flush, a FUA write): the crash explorer cuts there. */
    public void setBarrierListener(Runnable r) {
        this.barrierListener = r;
    }

    private void barrier() {
        Runnable r = barrierListener;
        if (r != null) {
            r.run();
        }
    }

    public CrashableBlockDevice(String name, long size) {
        this(name, new byte[Math.toIntExact(size)]);
    }

    /** A device whose durable and current contents are {@code image} (after a crash). */
    public CrashableBlockDevice(String name, byte[] image) {
        this.name = name;
        this.current = image.clone();
        this.durable = image.clone();
    }

    @Override
    public long sizeBytes() {
        return current.length;
    }

    @Override
    public synchronized void read(long sector, ByteBuffer dst) throws IOException {
        BlockDevice.checkRange(this, sector, dst.remaining());
        dst.put(current, (int) (sector << SECTOR_SHIFT), dst.remaining());
    }

    @Override
    public void write(long sector, ByteBuffer src, boolean fua) throws IOException {
        if (fua) {
            barrier();
        }
        writeLocked(sector, src, fua);
    }

    private synchronized void writeLocked(long sector, ByteBuffer src, boolean fua) throws IOException {
        BlockDevice.checkRange(this, sector, src.remaining());
        int off = (int) (sector << SECTOR_SHIFT);
        int len = src.remaining();
        src.get(current, off, len);
        if (fua) {
            fuaWrites++;
            System.arraycopy(current, off, durable, off, len);
            // the disk holds the newest data per sector: older cached writes of these sectors are gone
            for (int i = 0; i < pending.size(); i++) {
                long[] p = pending.get(i);
                long lo = Math.max(p[0], off);
                long hi = Math.min(p[0] + p[1], off + len);
                if (lo < hi) {
                    System.arraycopy(current, (int) lo, pendingData.get(i), (int) (lo - p[0]), (int) (hi - lo));
                }
            }
        } else {
            pending.add(new long[] {off, len});
            pendingData.add(java.util.Arrays.copyOfRange(current, off, off + len));
        }
    }

    @Override
    public void flush() {
        barrier();
        flushLocked();
    }

    private synchronized void flushLocked() {
        flushes++;
        for (long[] p : pending) {
            System.arraycopy(current, (int) p[0], durable, (int) p[0], (int) p[1]);
        }
        pending.clear();
        pendingData.clear();
    }

    @Override
    public synchronized void discard(long sector, long nSectors) throws IOException {
        BlockDevice.checkRange(this, sector, nSectors << SECTOR_SHIFT);
        write(sector, ByteBuffer.wrap(new byte[(int) (nSectors << SECTOR_SHIFT)]), false);
    }

    /** Writes a crash could still lose. */
    public synchronized int pendingWrites() {
        return pending.size();
    }

    public synchronized long flushes() {
        return flushes;
    }

    /** One state a power cut could leave: each unflushed write kept or lost, by {@code seed}. */
    public synchronized byte[] crashImage(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] img = durable.clone();
        for (int i = 0; i < pending.size(); i++) {
            if (r.nextBoolean()) {
                long[] p = pending.get(i);
                System.arraycopy(pendingData.get(i), 0, img, (int) p[0], (int) p[1]);
            }
        }
        return img;
    }

    /** The contents as written (no crash). */
    public synchronized byte[] snapshot() {
        return current.clone();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void close() {}
}
