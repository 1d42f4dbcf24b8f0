package dev.dmwc.daxlib;

/**
 * Persistence primitives on raw addresses of a mapping (the kernel's pmem API). None of them
 * fences except {@link #drain()}: a store is durable only after it was written back (or written
 * non-temporally) <em>and</em> a drain followed.
 */
public interface Pmem {
    /** Write back every cache line of {@code [addr, addr+len)} ({@code arch_wb_cache_pmem}). Not ordered. */
    void flush(long addr, long len);

    /** Order all earlier write-backs and non-temporal stores ({@code pmem_wmb}, sfence). */
    void drain();

    /** Copy with non-temporal stores ({@code memcpy_flushcache}); durable after the next drain. */
    void memcpyFlushcache(long dst, long src, long len);

    /** Plain copy, no write-back (the baseline for benchmarks). */
    void memcpy(long dst, long src, long len);

    /** "native (clwb, movnti)" or "java (msync)": what runs, for {@code dmwc info}. */
    String describe();

    /** The implementation in use: native when libdmwcnative loaded, else the Java fallback. */
    static Pmem best() {
        return NativeLib.available() ? NativePmem.INSTANCE : JavaPmem.INSTANCE;
    }

    /** Why the native implementation is not in use, or null when it is. */
    static String nativeUnavailableReason() {
        return NativeLib.loadError();
    }
}
