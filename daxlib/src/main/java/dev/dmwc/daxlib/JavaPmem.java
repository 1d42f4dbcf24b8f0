package dev.dmwc.daxlib;

import com.sun.jna.Pointer;
import java.lang.invoke.VarHandle;

/**
 * Pure-Java fallback: copies through JNA, write-back by {@code msync(MS_SYNC)} of the pages,
 * drain as a full fence. Slower, but the same durability contract.
 */
final class JavaPmem implements Pmem {
    static final JavaPmem INSTANCE = new JavaPmem();
    private static final long PAGE = 4096;

    private JavaPmem() {}

    @Override
    public void flush(long addr, long len) {
        if (len <= 0) {
            return;
        }
        long start = addr & ~(PAGE - 1);
        long end = (addr + len + PAGE - 1) & ~(PAGE - 1);
        if (Posix.msync(start, end - start, Posix.MS_SYNC) != 0) {
            // Anonymous or heap memory (tests, benchmarks) cannot be msync'ed: nothing to write back.
            VarHandle.fullFence();
        }
    }

    @Override
    public void drain() {
        VarHandle.fullFence();
    }

    @Override
    public void memcpyFlushcache(long dst, long src, long len) {
        memcpy(dst, src, len);
        flush(dst, len);
    }

    private static final boolean BIG_ENDIAN = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.BIG_ENDIAN;

    /** The media layout is little-endian whatever the CPU. */
    private static long le(long v) {
        return BIG_ENDIAN ? Long.reverseBytes(v) : v;
    }

    @Override
    public void assign8(long addr, long value) {
        new Pointer(addr).setLong(0, le(value));
        flush(addr, 8);
    }

    @Override
    public void assign16(long addr, long lo, long hi) {
        Pointer p = new Pointer(addr);
        p.setLong(0, le(lo));
        p.setLong(8, le(hi));
        flush(addr, 16);
    }

    @Override
    public void memcpy(long dst, long src, long len) {
        if (len > 0) {
            new Pointer(dst).write(0, new Pointer(src).getByteArray(0, Math.toIntExact(len)), 0, (int) len);
        }
    }

    @Override
    public String describe() {
        return "java fallback (msync, full fence): " + Pmem.nativeUnavailableReason();
    }
}
