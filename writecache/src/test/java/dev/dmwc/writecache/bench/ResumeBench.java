package dev.dmwc.writecache.bench;

import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.format.MemoryLayout;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Loading (ctr + resume: read every entry, rebuild the tree, LRU and freelist) a pmem cache of
 * 1,000,000 blocks of 4 KiB, 900,032 of them holding committed data. Target (issue #3): under
 * 1 s. Baseline, same run: reading the metadata area (the 16 MB resume must read) into the heap.
 * The set-up also prints the heap the loaded target keeps per cache block (GC-measured; target
 * ≤ 48 bytes).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 10)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
public class ResumeBench {
    static final long BLOCKS = 1_000_000;
    static final int FILLED = 900_032; // a multiple of the 64-block writes that fill it

    PmemTarget t;
    long metadataBytes;

    @Setup(Level.Trial)
    public void populate() throws IOException, DmError, MemoryLayout.SizeException {
        long metadata = MemoryLayout.metadataBytes(BLOCKS, 4096);
        long device = metadata + BLOCKS * 4096;
        if (MemoryLayout.calculate(device, 4096).nBlocks != BLOCKS) {
            throw new IllegalStateException("device size " + device + " does not give " + BLOCKS + " blocks");
        }
        metadataBytes = metadata;
        t = new PmemTarget((long) FILLED * 4096, device, ProtectionKeys.Backend.NONE,
                "autocommit_blocks", "1000000", "autocommit_time", "3600000", "high_watermark", "100");
        ByteBuffer run = ByteBuffer.allocateDirect(256 << 10);
        for (long s = 0; s < (long) FILLED * 8; s += 512) {
            run.clear();
            String err = t.target.submit(Bio.Op.WRITE, 0, s, run.capacity(), run);
            if (err != null) {
                throw new IllegalStateException("populate: " + err);
            }
        }
        t.target.remove(); // commit, clean shutdown
        t.target = null;
        long before = usedHeapAfterGc();
        t.target = t.load();
        long after = usedHeapAfterGc();
        System.out.printf("%nheap kept by the loaded target: %d bytes = %.1f bytes per cache block (%d blocks)%n",
                after - before, (after - before) / (double) BLOCKS, BLOCKS);
        if (!t.target.status().startsWith("0 " + BLOCKS + " " + (BLOCKS - FILLED) + " ")) {
            throw new IllegalStateException("unexpected status after load: " + t.target.status());
        }
        t.target.close();
        t.target = null;
    }

    static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        t.close();
    }

    @Benchmark
    public long baselineReadMetadata() {
        byte[] copy = new byte[(int) metadataBytes];
        t.dax.accessor().read(0, copy, 0, copy.length);
        return copy[copy.length - 1];
    }

    @Benchmark
    public String resume() throws DmError {
        var loaded = t.load();
        String s = loaded.status();
        loaded.close();
        return s;
    }
}
