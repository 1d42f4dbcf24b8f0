package dev.dmwc.daxlib;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The one door to a mapping of persistent memory. Every load and store goes through it: the
 * bounds check (behind a {@code static final} flag the JIT folds away), the protection check of
 * its pgmap (software backend), and crash-domain recording of stores. Persistence is explicit:
 * {@link #putLong} is a plain store; {@link #pmemAssign} and {@link #memcpyFlushcache} are
 * non-temporal; {@link #flushRegion} writes lines back; only {@link #drain} orders.
 *
 * <p>Mappings up to 2 GiB − 1 (one {@link ByteBuffer} view).
 */
public final class DaxAccessor {
    static final boolean BOUNDS_CHECKS = !Boolean.getBoolean("dmwc.noBoundsChecks");

    private final long address;
    private final long length;
    private final ByteBuffer view;
    private final Pgmap pgmap;          // null: not subject to a key (a permanent mapping)
    private final boolean softwareCheck;
    private final Pmem pmem;
    private volatile CrashDomain crashDomain;

    /**
     * A door over {@code [address, address+length)}. {@code pgmap} null = unprotected (e.g. a
     * permanent mapping of the same pages, which the key does not cover).
     */
    public DaxAccessor(long address, long length, Pgmap pgmap, Pmem pmem, CrashDomain crashDomain) {
        if (length <= 0 || length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("mapping length " + length + " out of range (1.." + Integer.MAX_VALUE + ")");
        }
        this.address = address;
        this.length = length;
        this.view = new Pointer(address).getByteBuffer(0, length).order(ByteOrder.LITTLE_ENDIAN);
        this.pgmap = pgmap;
        this.softwareCheck = pgmap != null && pgmap.isProtected() && pgmap.keys().checkedInSoftware();
        this.pmem = pmem;
        this.crashDomain = crashDomain;
    }

    public long address() { return address; }
    public long length() { return length; }
    public Pmem pmem() { return pmem; }
    public CrashDomain crashDomain() { return crashDomain; }

    /** Start (or stop, with null) recording stores for crash images. */
    public void setCrashDomain(CrashDomain d) {
        this.crashDomain = d;
    }

    private void check(long off, long len) {
        if (BOUNDS_CHECKS && (off < 0 || len < 0 || off + len > length)) {
            throw new IndexOutOfBoundsException("pmem access out of bounds: offset=" + off + ", length=" + len
                    + ", mapping=" + length);
        }
        if (softwareCheck && !pgmap.threadHasAccess()) {
            pgmap.fault(address + off);
        } else if (pgmap != null && pgmap.faultMode() == FaultMode.RELAXED && pgmap.isProtected()
                && !pgmap.threadHasAccess()) {
            // hardware backends cannot be caught after the fact: relaxed mode grants before touching
            pgmap.fault(address + off);
        }
    }

    private void record(long off, long len) {
        CrashDomain d = crashDomain;
        if (d != null) {
            d.beforeStore(off, len, w -> view.getLong((int) w));
        }
    }

    public long getLong(long off) {
        check(off, 8);
        return view.getLong((int) off);
    }

    public byte getByte(long off) {
        check(off, 1);
        return view.get((int) off);
    }

    /** A plain store: durable only after {@link #flushRegion} and {@link #drain}. */
    public void putLong(long off, long value) {
        check(off, 8);
        record(off, 8);
        view.putLong((int) off, value);
    }

    /** {@code pmem_assign}: the value with a non-temporal store; durable after the next drain. */
    public void pmemAssign(long off, long value) {
        check(off, 8);
        record(off, 8);
        view.putLong((int) off, value);
        pmem.flush(address + off, 8);
        CrashDomain d = crashDomain;
        if (d != null) {
            d.afterNonTemporalStore(off, 8);
        }
    }

    public void read(long off, byte[] dst, int dstOff, int len) {
        check(off, len);
        view.get((int) off, dst, dstOff, len);
    }

    public void read(long off, ByteBuffer dst) {
        int len = dst.remaining();
        check(off, len);
        dst.put(dst.position(), view, (int) off, len);
        dst.position(dst.position() + len);
    }

    /** A plain copy in (not flushed). */
    public void write(long off, byte[] src, int srcOff, int len) {
        check(off, len);
        record(off, len);
        view.put((int) off, src, srcOff, len);
    }

    /** {@code memcpy_flushcache} from a heap array: copy, then write the lines back. */
    public void memcpyFlushcache(long off, byte[] src, int srcOff, int len) {
        check(off, len);
        record(off, len);
        view.put((int) off, src, srcOff, len);
        pmem.flush(address + off, len);
        CrashDomain d = crashDomain;
        if (d != null) {
            d.afterNonTemporalStore(off, len);
        }
    }

    /** {@code memcpy_flushcache} from a buffer (non-temporal when direct and native). Consumes {@code src}. */
    public void memcpyFlushcache(long off, ByteBuffer src) {
        int len = src.remaining();
        check(off, len);
        record(off, len);
        if (src.isDirect()) {
            long s = Pointer.nativeValue(Native.getDirectBufferPointer(src)) + src.position();
            pmem.memcpyFlushcache(address + off, s, len);
        } else {
            view.put((int) off, src, src.position(), len);
            pmem.flush(address + off, len);
        }
        src.position(src.position() + len);
        CrashDomain d = crashDomain;
        if (d != null) {
            d.afterNonTemporalStore(off, len);
        }
    }

    /** Write back the lines of {@code [off, off+len)} ({@code flushRegion}); not ordered. */
    public void flushRegion(long off, long len) {
        check(off, len);
        pmem.flush(address + off, len);
        CrashDomain d = crashDomain;
        if (d != null) {
            d.flush(off, len);
        }
    }

    /** The fence ({@code pmem_wmb}): everything written back or written non-temporally is durable. */
    public void drain() {
        pmem.drain();
        CrashDomain d = crashDomain;
        if (d != null) {
            d.drain();
        }
    }

    /** Zero {@code [off, off+len)} durably (after the next drain). */
    public void zero(long off, long len) {
        check(off, len);
        record(off, len);
        byte[] z = new byte[(int) Math.min(len, 1 << 20)];
        for (long p = 0; p < len; p += z.length) {
            int n = (int) Math.min(z.length, len - p);
            view.put((int) (off + p), z, 0, n);
        }
        pmem.flush(address + off, len);
        CrashDomain d = crashDomain;
        if (d != null) {
            d.afterNonTemporalStore(off, len);
        }
    }
}
