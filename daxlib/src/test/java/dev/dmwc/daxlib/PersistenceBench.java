package dev.dmwc.daxlib;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The native persistence primitives, per copy size, against a plain copy ({@code baselineMemcpy})
 * of the same size into the same mapping in the same run: memcpy_flushcache with non-temporal
 * stores, the kernel's clflushopt variant, and copy followed by a cache-line write-back. The
 * durable variants end with the drain (sfence) that makes them durable. The destination walks a
 * 64 MiB range so that no variant is measured against lines it left in the cache.
 */
public class PersistenceBench extends DaxBench {
    static final long SIZE = 64L << 20;

    @Param({"512", "1024", "2048", "4096", "16384", "65536"})
    int size;

    BenchDevice dev;
    long base;
    long src;
    ByteBuffer srcBuf;
    long off;
    NativePmem pmem;

    @Setup(Level.Trial)
    public void open() throws IOException {
        if (!NativeLib.available()) {
            throw new IllegalStateException("libdmwcnative not loaded: " + NativeLib.loadError());
        }
        pmem = NativePmem.INSTANCE;
        dev = new BenchDevice(SIZE, ProtectionKeys.Backend.NONE);
        base = dev.device.directAccess(0, SIZE / DaxDevice.PAGE_SIZE).kaddr();
        srcBuf = ByteBuffer.allocateDirect(65536 + 64);
        for (int i = 0; i < srcBuf.capacity(); i++) {
            srcBuf.put(i, (byte) (i * 31));
        }
        src = Pointer.nativeValue(Native.getDirectBufferPointer(srcBuf));
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        dev.close();
    }

    private long next() {
        long o = off = (off + size) % SIZE;
        return base + o;
    }

    @Benchmark
    public void baselineMemcpy() {
        pmem.memcpy(next(), src, size);
    }

    @Benchmark
    public void memcpyFlushcacheMovnti() {
        NativeLib.dmwc_memcpy_flushcache(next(), src, size);
        pmem.drain();
    }

    @Benchmark
    public void memcpyFlushcacheClflushopt() {
        NativeLib.dmwc_memcpy_flushcache_clflushopt(next(), src, size);
        pmem.drain();
    }

    @Benchmark
    public void copyThenFlush() {
        long d = next();
        pmem.memcpy(d, src, size);
        pmem.flush(d, size);
        pmem.drain();
    }
}
