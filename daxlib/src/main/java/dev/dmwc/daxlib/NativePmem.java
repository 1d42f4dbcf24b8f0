package dev.dmwc.daxlib;

/** x86-64 primitives from libdmwcnative: clwb/clflushopt/clflush, sfence, movnti copies. */
final class NativePmem implements Pmem {
    static final NativePmem INSTANCE = new NativePmem();

    /**
     * dm-writecache's {@code memcpy_flushcache_optimized} switches to copy + clflushopt at this
     * size; on the CPUs measured in BENCHMARKS.md movnti stayed faster at every size, so the
     * threshold is a knob ({@code -Ddmwc.pmem.clflushoptThreshold}), off by default.
     */
    private static final long CLFLUSHOPT_THRESHOLD = Long.getLong("dmwc.pmem.clflushoptThreshold", Long.MAX_VALUE);

    /** The hot calls go through JNI when it linked (see {@link JniPmem}), else through JNA. */
    private static final boolean JNI = JniPmem.available();

    private NativePmem() {}

    @Override
    public void flush(long addr, long len) {
        if (JNI) {
            JniPmem.flush(addr, len);
        } else {
            NativeLib.dmwc_flush(addr, len);
        }
    }

    @Override
    public void drain() {
        if (JNI) {
            JniPmem.drain();
        } else {
            NativeLib.dmwc_drain();
        }
    }

    @Override
    public void memcpyFlushcache(long dst, long src, long len) {
        if (len >= CLFLUSHOPT_THRESHOLD) {
            NativeLib.dmwc_memcpy_flushcache_clflushopt(dst, src, len);
        } else if (JNI) {
            JniPmem.memcpyFlushcache(dst, src, len);
        } else {
            NativeLib.dmwc_memcpy_flushcache(dst, src, len);
        }
    }

    @Override
    public void assign8(long addr, long value) {
        if (JNI) {
            JniPmem.assign8(addr, value);
        } else {
            NativeLib.dmwc_assign8(addr, value);
        }
    }

    @Override
    public void assign16(long addr, long lo, long hi) {
        if (JNI) {
            JniPmem.assign16(addr, lo, hi);
        } else {
            NativeLib.dmwc_assign16(addr, lo, hi);
        }
    }

    @Override
    public void assign16ThenMemcpyFlushcache(long entry, long lo, long hi, long dst, long src, long len) {
        if (len >= CLFLUSHOPT_THRESHOLD) {
            assign16(entry, lo, hi);
            NativeLib.dmwc_memcpy_flushcache_clflushopt(dst, src, len);
        } else if (JNI) {
            JniPmem.assign16MemcpyFlushcache(entry, lo, hi, dst, src, len);
        } else {
            NativeLib.dmwc_assign16_memcpy_flushcache(entry, lo, hi, dst, src, len);
        }
    }

    /** The kernel's clflushopt variant, exposed for the benchmark that chooses the threshold. */
    void memcpyFlushcacheClflushopt(long dst, long src, long len) {
        NativeLib.dmwc_memcpy_flushcache_clflushopt(dst, src, len);
    }

    @Override
    public void memcpy(long dst, long src, long len) {
        if (JNI) {
            JniPmem.memcpy(dst, src, len);
        } else {
            NativeLib.dmwc_memcpy(dst, src, len);
        }
    }

    @Override
    public String describe() {
        String[] m = {"clflush", "clflushopt", "clwb"};
        return "native (" + m[NativeLib.dmwc_flush_method()] + ", movnti, sfence; "
                + (JNI ? "JNI" : "JNA: " + JniPmem.loadError()) + ")";
    }
}
