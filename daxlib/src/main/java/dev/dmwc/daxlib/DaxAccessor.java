package dev.dmwc.daxlib;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The one door to a mapping of persistent memory. Every load and store goes through it: the
 * bounds check (behind a {@code static final} flag the JIT folds away), the protection check of
 * its pgmap (software backend), and crash-domain recording of stores. Persistence is explicit:
 * {@link #putLong} is a plain store; {@link #pmemAssign} and {@link #memcpyFlushcache} are
 * non-temporal; {@link #flushRegion} writes lines back; only {@link #drain} orders.
 *
 * <p>Any length: the mapping is seen through {@link ByteBuffer} views of 1 GiB each; bulk copies
 * are split at view boundaries, an 8-byte access that straddles one is assembled byte by byte.
 */
public final class DaxAccessor {
    static final boolean BOUNDS_CHECKS = !Boolean.getBoolean("dmwc.noBoundsChecks");

    private final long address;
    private final long length;
    private static final int SEG_SHIFT = 30;
    private static final long SEG_SIZE = 1L << SEG_SHIFT;
    private static final long SEG_MASK = SEG_SIZE - 1;
    private final ByteBuffer[] segs;
    private final Pgmap pgmap;          // null: not subject to a key (a permanent mapping)
    private final boolean softwareCheck;
    /**
     * pku: a thread's rights live in its PKRU register, which a new thread copies from the one that
     * started it (clone copies the register state). A thread started inside another's window would so
     * begin with access, where a new task's PKRS starts closed; {@link #check} closes it.
     */
    private final boolean perThreadRegister;
    private final Pmem pmem;
    private volatile CrashDomain crashDomain;

    /**
     * A door over {@code [address, address+length)}. {@code pgmap} null = unprotected (e.g. a
     * permanent mapping of the same pages, which the key does not cover).
     */
    public DaxAccessor(long address, long length, Pgmap pgmap, Pmem pmem, CrashDomain crashDomain) {
        if (length <= 0) {
            throw new IllegalArgumentException("mapping length " + length + " out of range (must be positive)");
        }
        this.address = address;
        this.length = length;
        int n = (int) ((length + SEG_MASK) >>> SEG_SHIFT);
        this.segs = new ByteBuffer[n];
        for (int i = 0; i < n; i++) {
            long start = (long) i << SEG_SHIFT;
            segs[i] = new Pointer(address + start).getByteBuffer(0, Math.min(SEG_SIZE, length - start))
                    .order(ByteOrder.LITTLE_ENDIAN);
        }
        this.pgmap = pgmap;
        this.softwareCheck = pgmap != null && pgmap.isProtected() && pgmap.keys().checkedInSoftware();
        this.perThreadRegister = pgmap != null && pgmap.isProtected() && pgmap.backend() == ProtectionKeys.Backend.PKU;
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
        } else if (perThreadRegister && !pgmap.threadHasAccess()) {
            // a stray: this thread holds no window, but may have inherited an open PKRU; closed here,
            // the access below faults in hardware (strict: SIGSEGV, the kernel's oops)
            pgmap.closeForThisThread();
        }
    }

    private void record(long off, long len) {
        CrashDomain d = crashDomain;
        if (d != null) {
            d.beforeStore(off, len, this::rawGetLong);
        }
    }

    private ByteBuffer seg(long off) {
        return segs[(int) (off >>> SEG_SHIFT)];
    }

    private static boolean straddles(long off, int len) {
        return (off & SEG_MASK) + len > SEG_SIZE;
    }

    private long rawGetLong(long off) {
        if (straddles(off, 8)) {
            long v = 0;
            for (int i = 7; i >= 0; i--) {
                v = (v << 8) | (seg(off + i).get((int) ((off + i) & SEG_MASK)) & 0xff);
            }
            return v;
        }
        return seg(off).getLong((int) (off & SEG_MASK));
    }

    private void rawPutLong(long off, long value) {
        if (straddles(off, 8)) {
            for (int i = 0; i < 8; i++) {
                seg(off + i).put((int) ((off + i) & SEG_MASK), (byte) (value >>> (8 * i)));
            }
            return;
        }
        seg(off).putLong((int) (off & SEG_MASK), value);
    }

    /** Bytes from {@code off} to the end of its view, at most {@code len}. */
    private static int chunk(long off, long len) {
        return (int) Math.min(len, SEG_SIZE - (off & SEG_MASK));
    }

    private void rawPut(long off, byte[] src, int srcOff, int len) {
        while (len > 0) {
            int c = chunk(off, len);
            seg(off).put((int) (off & SEG_MASK), src, srcOff, c);
            off += c;
            srcOff += c;
            len -= c;
        }
    }

    public long getLong(long off) {
        check(off, 8);
        return rawGetLong(off);
    }

    public byte getByte(long off) {
        check(off, 1);
        return seg(off).get((int) (off & SEG_MASK));
    }

    /** A plain store: durable only after {@link #flushRegion} and {@link #drain}. */
    public void putLong(long off, long value) {
        check(off, 8);
        record(off, 8);
        rawPutLong(off, value);
    }

    /** {@code pmem_assign}: the value with a non-temporal store; durable after the next drain. */
    public void pmemAssign(long off, long value) {
        check(off, 8);
        record(off, 8);
        if ((off & 7) == 0) {
            pmem.assign8(address + off, value);
        } else {
            rawPutLong(off, value);
            pmem.flush(address + off, 8);
        }
        CrashDomain d = crashDomain;
        if (d != null) {
            d.afterNonTemporalStore(off, 8);
        }
    }

    /**
     * {@code pmem_assign} of a 16-byte value, {@code lo} then {@code hi} little-endian (a
     * {@code wc_memory_entry}): non-temporal, durable after the next drain.
     */
    public void pmemAssign16(long off, long lo, long hi) {
        check(off, 16);
        record(off, 16);
        if ((off & 7) == 0 && !straddles(off, 16)) {
            pmem.assign16(address + off, lo, hi);
        } else {
            rawPutLong(off, lo);
            rawPutLong(off + 8, hi);
            pmem.flush(address + off, 16);
        }
        CrashDomain d = crashDomain;
        if (d != null) {
            d.afterNonTemporalStore(off, 16);
        }
    }

    public void read(long off, byte[] dst, int dstOff, int len) {
        check(off, len);
        while (len > 0) {
            int c = chunk(off, len);
            seg(off).get((int) (off & SEG_MASK), dst, dstOff, c);
            off += c;
            dstOff += c;
            len -= c;
        }
    }

    public void read(long off, ByteBuffer dst) {
        int len = dst.remaining();
        check(off, len);
        while (len > 0) {
            int c = chunk(off, len);
            dst.put(dst.position(), seg(off), (int) (off & SEG_MASK), c);
            dst.position(dst.position() + c);
            off += c;
            len -= c;
        }
    }

    /** A plain copy in (not flushed). */
    public void write(long off, byte[] src, int srcOff, int len) {
        check(off, len);
        record(off, len);
        rawPut(off, src, srcOff, len);
    }

    /** {@code memcpy_flushcache} from a heap array: copy, then write the lines back. */
    public void memcpyFlushcache(long off, byte[] src, int srcOff, int len) {
        check(off, len);
        record(off, len);
        rawPut(off, src, srcOff, len);
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
            long s = DirectAddress.of(src) + src.position();
            pmem.memcpyFlushcache(address + off, s, len);
        } else {
            for (long o = off, p = src.position(), left = len; left > 0;) {
                int c = chunk(o, left);
                seg(o).put((int) (o & SEG_MASK), src, (int) p, c);
                o += c;
                p += c;
                left -= c;
            }
            pmem.flush(address + off, len);
        }
        src.position(src.position() + len);
        CrashDomain d = crashDomain;
        if (d != null) {
            d.afterNonTemporalStore(off, len);
        }
    }

    /**
     * {@link #pmemAssign16} at {@code entryOff}, then {@link #memcpyFlushcache} of {@code src} at
     * {@code dataOff}: a cache entry and its block, the same stores in the same order, one native
     * call when {@code src} is direct. Consumes {@code src}.
     */
    public void pmemAssign16ThenCopy(long entryOff, long lo, long hi, long dataOff, ByteBuffer src) {
        int len = src.remaining();
        if (!src.isDirect() || (entryOff & 7) != 0 || straddles(entryOff, 16)) {
            pmemAssign16(entryOff, lo, hi);
            memcpyFlushcache(dataOff, src);
            return;
        }
        check(entryOff, 16);
        check(dataOff, len);
        record(entryOff, 16);
        record(dataOff, len);
        pmem.assign16ThenMemcpyFlushcache(address + entryOff, lo, hi, address + dataOff,
                DirectAddress.of(src) + src.position(), len);
        src.position(src.position() + len);
        CrashDomain d = crashDomain;
        if (d != null) {
            d.afterNonTemporalStore(entryOff, 16);
            d.afterNonTemporalStore(dataOff, len);
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

    /**
     * Fault every page of the mapping in, writable, contents unchanged ({@link Prefault#beforeUse}): no store
     * to record, nothing to make durable. Later accesses then pay no first-touch fault.
     */
    public void touchAllPages() throws IOException {
        check(0, length);
        for (ByteBuffer s : segs) {
            Prefault.beforeUse(s, "the pmem mapping");
        }
    }

    /** Zero {@code [off, off+len)} durably (after the next drain). */
    public void zero(long off, long len) {
        check(off, len);
        record(off, len);
        byte[] z = new byte[(int) Math.min(len, 1 << 20)];
        for (long p = 0; p < len; p += z.length) {
            int n = (int) Math.min(z.length, len - p);
            rawPut(off + p, z, 0, n);
        }
        pmem.flush(address + off, len);
        CrashDomain d = crashDomain;
        if (d != null) {
            d.afterNonTemporalStore(off, len);
        }
    }
}
