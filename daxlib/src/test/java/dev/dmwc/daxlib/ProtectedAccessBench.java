package dev.dmwc.daxlib;

import java.io.IOException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Accesses through the accessor of a protected DAX range, per protection backend, against the same
 * access through an unprotected accessor in the same run ({@code baselineStore8},
 * {@code baselineCopy4k}). {@code copy4k} copies 4 KiB from the heap inside an open window; target
 * (issue #2): the software backend within 10% of unprotected.
 * {@code store8} stores inside an open window (what the engine does between setReadwrite and
 * setNoaccess); {@code store8Bracketed} opens and closes a closed window around every store
 * (on a second device of the same backend), the cost a caller pays for a single access: a
 * thread-local count for software, an mprotect syscall pair for mprotect, WRPKRU for pku.
 *
 * <p>Add {@code -p backend=none,software,mprotect,pku} on a machine whose CPU has pku.
 */
public class ProtectedAccessBench extends DaxBench {
    static final long SIZE = 16L << 20;
    static final long MASK = SIZE - 1;

    @Param({"none", "software", "mprotect"})
    String backend;

    BenchDevice unprotected;
    BenchDevice protectedDev;
    BenchDevice closedDev;
    DaxAccessor plain;
    DaxAccessor guarded;
    DaxAccessor closed;
    long off;
    final byte[] block = new byte[4096];

    @Setup(Level.Trial)
    public void open() throws IOException {
        unprotected = new BenchDevice(SIZE, ProtectionKeys.Backend.NONE);
        protectedDev = new BenchDevice(SIZE, ProtectionKeys.Backend.parse(backend));
        plain = unprotected.device.accessor();
        guarded = protectedDev.device.accessor();
        protectedDev.device.setReadwrite(); // this (the benchmark) thread's window
        closedDev = new BenchDevice(SIZE, ProtectionKeys.Backend.parse(backend));
        closed = closedDev.device.accessor();
        new java.util.Random(1).nextBytes(block);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        protectedDev.device.setNoaccess();
        protectedDev.close();
        closedDev.close();
        unprotected.close();
    }

    @Benchmark
    public void baselineStore8() {
        long o = off = (off + 64) & MASK;
        plain.putLong(o, o);
    }

    @Benchmark
    public void store8() {
        long o = off = (off + 64) & MASK;
        guarded.putLong(o, o);
    }

    @Benchmark
    public void store8Bracketed() {
        long o = off = (off + 64) & MASK;
        DaxDevice d = closedDev.device;
        d.setReadwrite();
        try {
            closed.putLong(o, o);
        } finally {
            d.setNoaccess();
        }
    }

    @Benchmark
    public void baselineCopy4k() {
        long o = off = (off + 4096) & MASK;
        plain.write(o, block, 0, 4096);
    }

    @Benchmark
    public void copy4k() {
        long o = off = (off + 4096) & MASK;
        guarded.write(o, block, 0, 4096);
    }
}
