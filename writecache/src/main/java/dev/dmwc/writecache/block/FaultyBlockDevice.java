package dev.dmwc.writecache.block;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A device that fails on command, as dm-flakey / dm-dust do: reads, writes or flushes return an
 * I/O error while the fault is set (optionally only for a sector range, or after N more
 * successful calls). Everything else passes through.
 */
public final class FaultyBlockDevice implements BlockDevice {
    public enum Fault { READ, WRITE, FLUSH }

    private final BlockDevice dev;
    private final boolean[] failing = new boolean[Fault.values().length];
    private final long[] after = new long[Fault.values().length];
    private long fromSector = 0;
    private long toSector = Long.MAX_VALUE;
    private long injected;

    public FaultyBlockDevice(BlockDevice dev) {
        this.dev = dev;
    }

    /** Fail every {@code f} from now on (or stop with {@code on == false}). */
    public synchronized FaultyBlockDevice fail(Fault f, boolean on) {
        failing[f.ordinal()] = on;
        after[f.ordinal()] = 0;
        return this;
    }

    /** Let {@code n} more {@code f} succeed, then fail every one. */
    public synchronized FaultyBlockDevice failAfter(Fault f, long n) {
        failing[f.ordinal()] = true;
        after[f.ordinal()] = n;
        return this;
    }

    /** Reads and writes fail only inside {@code [from, to)} (sectors). */
    public synchronized FaultyBlockDevice range(long from, long to) {
        fromSector = from;
        toSector = to;
        return this;
    }

    public synchronized long injected() {
        return injected;
    }

    private synchronized void check(Fault f, long sector, long bytes) throws IOException {
        if (!failing[f.ordinal()]) {
            return;
        }
        if (f != Fault.FLUSH && (sector + (bytes >> SECTOR_SHIFT) <= fromSector || sector >= toSector)) {
            return;
        }
        if (after[f.ordinal()] > 0) {
            after[f.ordinal()]--;
            return;
        }
        injected++;
        throw new IOException("injected " + f.name().toLowerCase() + " error: device=" + dev.name() + ", sector=" + sector);
    }

    @Override
    public long sizeBytes() {
        return dev.sizeBytes();
    }

    @Override
    public void read(long sector, ByteBuffer dst) throws IOException {
        check(Fault.READ, sector, dst.remaining());
        dev.read(sector, dst);
    }

    @Override
    public void write(long sector, ByteBuffer src, boolean fua) throws IOException {
        check(Fault.WRITE, sector, src.remaining());
        dev.write(sector, src, fua);
    }

    @Override
    public void flush() throws IOException {
        check(Fault.FLUSH, 0, 0);
        dev.flush();
    }

    @Override
    public void discard(long sector, long nSectors) throws IOException {
        check(Fault.WRITE, sector, nSectors << SECTOR_SHIFT);
        dev.discard(sector, nSectors);
    }

    @Override
    public String name() {
        return dev.name();
    }

    @Override
    public void close() throws IOException {
        dev.close();
    }
}
