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

    /**
     * {@code pmem_assign} of an 8-byte value at an 8-byte aligned {@code addr}: a non-temporal
     * store ({@code movnti}), durable after the next drain. The kernel's {@code memcpy_flushcache}
     * of 8 bytes is exactly this.
     */
    void assign8(long addr, long value);

    /**
     * {@code pmem_assign} of a 16-byte value ({@code lo} at {@code addr}, {@code hi} at
     * {@code addr + 8}, little-endian) at an 8-byte aligned {@code addr}: two non-temporal stores,
     * durable after the next drain. One call for a {@code wc_memory_entry}: a store and a cache-line
     * write-back per entry cost a native call each, and the call's return waits for the write-back.
     */
    void assign16(long addr, long lo, long hi);

    /**
     * {@link #assign16} then {@link #memcpyFlushcache}, in that order, in one call: a cache entry's
     * metadata and its block. Every native call's return is a full fence in the JVM, which waits
     * for the non-temporal stores before it; two calls per cached write wait twice.
     */
    default void assign16ThenMemcpyFlushcache(long entry, long lo, long hi, long dst, long src, long len) {
        assign16(entry, lo, hi);
        memcpyFlushcache(dst, src, len);
    }

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
