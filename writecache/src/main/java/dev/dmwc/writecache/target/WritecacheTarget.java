package dev.dmwc.writecache.target;

import dev.dmwc.daxlib.CrashDomain;
import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.BlockDevice;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.MapResult;
import dev.dmwc.writecache.engine.Scheduler;
import dev.dmwc.writecache.engine.Writecache;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A loaded writecache table as DM core drives it: {@code dmsetup create} (ctr + resume), bio
 * submission with the block layer's alignment check and DM's {@code dm_accept_partial_bio}
 * resubmission, empty flushes sent as {@code num_flush_bios} clones, status and table lines,
 * messages, suspend, resume and remove.
 */
public final class WritecacheTarget implements AutoCloseable {
    private final Writecache wc;
    private final String originName;
    private final String cacheName;
    private final int numFlushBios;

    private WritecacheTarget(Writecache wc, String originName, String cacheName) {
        this.wc = wc;
        this.originName = originName;
        this.cacheName = cacheName;
        this.numFlushBios = wc.config().pmemMode ? 1 : 2;
    }

    /**
     * {@code dmsetup create}: parse {@code argv} (the table's writecache arguments, devices by
     * name from {@code devices}: a {@link BlockDevice}, or a {@link DaxDevice} for pmem), construct,
     * resume. On failure nothing was written unless the device was new (all zero) and got formatted.
     */
    public static WritecacheTarget create(List<String> argv, Map<String, Object> devices, Scheduler sched,
            CrashDomain crashDomain, Consumer<String> log) throws DmError {
        TableParser.Table t = TableParser.parse(argv, name -> {
            Object d = devices.get(name);
            if (d instanceof BlockDevice b) {
                return new TableParser.DeviceInfo(b.sizeBytes(), b.logicalBlockSize());
            }
            if (d instanceof DaxDevice x) {
                return new TableParser.DeviceInfo(x.size(), 512);
            }
            return null;
        });
        Object origin = devices.get(t.origin());
        if (!(origin instanceof BlockDevice)) {
            throw new DmError("EINVAL", "Origin data device lookup failed");
        }
        Object cache = devices.get(t.cache());
        if (t.config().pmemMode && !(cache instanceof DaxDevice)) {
            throw new DmError("EOPNOTSUPP", "Persistent memory or DAX not supported on this system");
        }
        if (!t.config().pmemMode && !(cache instanceof BlockDevice)) {
            throw new DmError("EINVAL", "Cache data device lookup failed");
        }
        Writecache wc = Writecache.create(t.config(), (BlockDevice) origin, cache, sched, crashDomain, log);
        wc.resume();
        return new WritecacheTarget(wc, t.origin(), t.cache());
    }

    public Writecache engine() {
        return wc;
    }

    public boolean suspended() {
        return wc.isSuspended();
    }

    /** The target length in sectors (the origin's size). */
    public long lengthSectors() {
        return wc.origin().sizeSectors();
    }

    /**
     * Submit one bio. Returns null on success or the errno name. {@code data}: the payload from
     * its position ({@code nBytes} of it), null for discards.
     */
    public String submit(Bio.Op op, int flags, long sector, int nBytes, ByteBuffer data) {
        int lbs = wc.blockSize(); // a power of two (the table refuses others): masks, not divisions
        if ((((sector << 9) | nBytes) & (lbs - 1)) != 0 || nBytes < 0) {
            return "EINVAL";
        }
        if (sector < 0 || sector + (nBytes >> 9) > lengthSectors()) {
            return op == Bio.Op.WRITE ? "ENOSPC" : "EINVAL";
        }
        String err = null;
        if ((flags & Bio.REQ_PREFLUSH) != 0) {
            err = flush();
            flags &= ~Bio.REQ_PREFLUSH;
        }
        long pos = sector;
        int remaining = nBytes;
        int offset = 0;
        while (remaining > 0) {
            ByteBuffer d = null;
            if (data != null) {
                d = data.duplicate();
                d.position(data.position() + offset);
            }
            Bio b = new Bio(op, flags, pos, remaining, d, 0);
            MapResult r = wc.map(b);
            String e = complete(b, r);
            if (err == null) {
                err = e;
            }
            int processed = b.advanced + b.size;
            pos += processed >> 9;
            remaining -= processed;
            offset += processed;
            if (remaining > 0) {
                wc.beforeSplitRemainder();
            }
        }
        return err;
    }

    /** An empty REQ_PREFLUSH bio ({@code fsync} on the target): one clone per flush bio. */
    public String flush() {
        String err = null;
        for (int nr = 0; nr < numFlushBios; nr++) {
            Bio b = new Bio(Bio.Op.WRITE, Bio.REQ_PREFLUSH, 0, 0, null, nr);
            String e = complete(b, wc.map(b));
            if (err == null) {
                err = e;
            }
        }
        return err;
    }

    private String complete(Bio b, MapResult r) {
        try {
            switch (r) {
                case SUBMIT:
                    return null;
                case ERROR:
                    return "EIO";
                case RETURN:
                    return wc.runFlushThread() ? null : "EIO";
                case REMAP_ORIGIN:
                    try {
                        io(wc.origin(), b, b.sector);
                    } finally {
                        wc.endIo(b, r);
                    }
                    return null;
                case REMAP:
                    try {
                        io(wc.ssd(), b, b.remapSector);
                    } finally {
                        wc.endIo(b, r);
                    }
                    return null;
                default:
                    throw new IllegalStateException("map result " + r);
            }
        } catch (IOException e) {
            return "EIO";
        }
    }

    private static void io(BlockDevice dev, Bio b, long sector) throws IOException {
        if (b.has(Bio.REQ_PREFLUSH) && b.size == 0) {
            dev.flush();
            return;
        }
        if (b.data == null && b.op != Bio.Op.DISCARD) {
            return; // dataless replay: the state machine without payloads
        }
        switch (b.op) {
            case READ:
                dev.read(sector, b.currentData());
                break;
            case WRITE:
                dev.write(sector, b.currentData(), b.has(Bio.REQ_FUA));
                break;
            case DISCARD:
                dev.discard(sector, b.sectors());
                break;
            default:
                throw new IllegalStateException();
        }
    }

    /** {@code dmsetup status}: the 14 writecache fields. */
    public String status() {
        return wc.status();
    }

    /** {@code dmsetup table}: the writecache part of the table line, as the kernel prints it. */
    public String table() {
        return (wc.config().pmemMode ? "p" : "s") + " " + originName + " " + cacheName + " " + wc.blockSize() + " "
                + wc.config().tableFeatures();
    }

    public void message(String[] argv) throws DmError {
        wc.message(argv);
    }

    public void suspend() {
        if (!wc.isSuspended()) {
            wc.suspend();
        }
    }

    public void resume() {
        if (wc.isSuspended()) {
            wc.resume();
        }
    }

    /** {@code dmsetup remove}: suspend (commit, flush_on_suspend writeback) unless suspended, then dtr. */
    public void remove() {
        suspend();
        wc.close();
    }

    /** Power cut: destroy without suspending (nothing committed). */
    @Override
    public void close() {
        wc.close();
    }
}
