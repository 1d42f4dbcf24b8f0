package dev.dmwc.writecache.bench;

import dev.dmwc.daxlib.DaxAccessor;
import dev.dmwc.daxlib.DaxBench;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.engine.DmError;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * 4 KiB write hits into a pmem-mode cache, one thread, through the whole target (DM core split,
 * map under the lock, tree lookup, durable copy), against the same run's raw durable 4 KiB copy
 * ({@code memcpy_flushcache} + drain) into the same mapping. Target (issue #3): ≥ 0.5.
 * {@code writeHitUncommitted}: a hot set of 1024 blocks rewritten with commits off (every write
 * is an in-place hit); {@code writeHitCommitted}: a flush after every pass, so each write hits a
 * committed block and pmem mode copies it to a new block (and the commit frees the old one).
 */
public class PmemWriteHitBench extends DaxBench {
    static final int HOT = 1024;
    static final int BS = 4096;

    @Param({"none", "software"})
    String backend;

    PmemTarget t;
    ByteBuffer block;
    DaxAccessor mapping;
    long baselineBase;
    long baselineOff;
    int next;

    @Setup(Level.Trial)
    public void open() throws IOException, DmError {
        t = new PmemTarget(64L << 20, 64L << 20, ProtectionKeys.Backend.parse(backend),
                "autocommit_blocks", "1000000", "autocommit_time", "3600000", "high_watermark", "100");
        block = ByteBuffer.allocateDirect(BS);
        for (int i = 0; i < BS; i++) {
            block.put(i, (byte) (i * 7));
        }
        for (int b = 0; b < HOT; b++) {
            write(b);
        }
        mapping = t.dax.accessor();
        baselineBase = t.dax.size() - 8L * 1024 * 1024; // the last 8 MiB: data blocks the hot set never uses
        t.dax.setReadwrite();
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        t.dax.setNoaccess();
        t.close();
    }

    private void write(int b) {
        block.clear();
        String err = t.target.submit(Bio.Op.WRITE, 0, (long) b * (BS / 512), BS, block);
        if (err != null) {
            throw new IllegalStateException("write failed: " + err);
        }
    }

    @Benchmark
    public void baselineDurableCopy4k() {
        long o = baselineBase + (baselineOff = (baselineOff + BS) % (8L << 20));
        block.clear();
        mapping.memcpyFlushcache(o, block);
        mapping.drain();
    }

    @Benchmark
    public void writeHitUncommitted() {
        write(next = (next + 1) % HOT);
    }

    @Benchmark
    public void writeHitCommitted() {
        int b = next = (next + 1) % HOT;
        if (b == 0) {
            t.target.flush();
        }
        write(b);
    }
}
