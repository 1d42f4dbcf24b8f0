package dev.dmwc.writecache.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.MemoryBlockDevice;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A small target (both modes; small enough that writeback, write-around and freelist waits
 * happen) driven op by op against a model of the logical device. Every block's content is derived
 * from (block, version), so a read names the version it saw.
 *
 * <p>Without a crash every read returns the newest version. A crash (all in-memory state
 * dropped, the target loaded again from the devices) may lose what was not made durable: each
 * block must then read as the version it had at the last completed flush (FUA too in pmem mode,
 * where a FUA write commits; ssd mode commits only on flush, see test-data/kernel/ssd-fua) or as
 * a version written after it — never anything else. Structural invariants after every op.
 */
final class ModelHarness implements AutoCloseable {
    enum Kind { WRITE, FUA_WRITE, READ, DISCARD, FLUSH, MESSAGE_FLUSH, CLEAR_STATS, CLEANER, RELOAD, CRASH, ADVANCE }

    /** One operation; {@code block} is taken modulo the device's blocks, {@code n} 1..8. */
    record Op(Kind kind, int block, int n, int ms) {
        @Override
        public String toString() {
            return switch (kind) {
                case WRITE, FUA_WRITE, READ, DISCARD -> kind + "(" + block + "+" + n + ")";
                case ADVANCE -> kind + "(" + ms + "ms)";
                default -> kind.toString();
            };
        }
    }

    /** The table: mode, block size, autocommit settings, ssd pause. */
    record Config(String mode, int blockSize, int autocommitBlocks, int autocommitMs, int pauseMs) {
        List<String> table() {
            List<String> t = new ArrayList<>(List.of(mode, "o", "c", Integer.toString(blockSize), "4",
                    "autocommit_blocks", Integer.toString(autocommitBlocks), "autocommit_time", Integer.toString(autocommitMs)));
            if (mode.equals("s")) {
                t.set(4, "6");
                t.addAll(List.of("pause_writeback", Integer.toString(pauseMs)));
            }
            return t;
        }
    }

    static final long ORIGIN_BYTES = 2 << 20;

    final Config cfg;
    final boolean pmem;
    final int bs;
    final int blocks;
    final MemoryBlockDevice origin;
    final Map<String, Object> devs = new HashMap<>();
    final VirtualScheduler sched = new VirtualScheduler();
    final long[] current;
    final List<Set<Long>> allowed = new ArrayList<>();
    private final Path pmemFile;
    private final DaxDevice dax;
    WritecacheTarget t;
    long nextVersion = 1;
    int crashes;
    String where = "";

    ModelHarness(Config cfg) throws Exception {
        this.cfg = cfg;
        this.pmem = cfg.mode().equals("p");
        this.bs = cfg.blockSize();
        this.blocks = (int) (ORIGIN_BYTES / bs);
        origin = new MemoryBlockDevice("origin", ORIGIN_BYTES);
        devs.put("o", origin);
        if (pmem) {
            pmemFile = Files.createTempFile("dmwc-model-", ".pmem");
            try (RandomAccessFile raf = new RandomAccessFile(pmemFile.toFile(), "rw")) {
                raf.setLength(512 << 10);
            }
            dax = DaxDevice.open(pmemFile, new DaxDevice.Options().backend(ProtectionKeys.Backend.SOFTWARE));
            devs.put("c", dax);
        } else {
            pmemFile = null;
            dax = null;
            devs.put("c", new MemoryBlockDevice("cache", 256 << 10));
        }
        current = new long[blocks];
        for (int i = 0; i < blocks; i++) {
            allowed.add(new HashSet<>(Set.of(0L)));
        }
        t = WritecacheTarget.create(cfg.table(), devs, sched, null, m -> { });
    }

    static byte[] content(int bs, int block, long version) {
        byte[] d = new byte[bs];
        if (version != 0) {
            new SplittableRandom(block * 1_000_003L + version * 7_919L).nextBytes(d);
        }
        return d;
    }

    private void written(int b, long v) {
        current[b] = v;
        allowed.get(b).add(v);
    }

    /** A completed flush: only the newest version of every block may survive a crash now. */
    private void durable() {
        for (int b = 0; b < blocks; b++) {
            Set<Long> s = allowed.get(b);
            s.clear();
            s.add(current[b]);
        }
    }

    void apply(Op op) throws Exception {
        int b = Math.floorMod(op.block(), blocks - 8);
        int n = Math.max(1, Math.min(8, op.n()));
        switch (op.kind()) {
            case WRITE, FUA_WRITE -> {
                ByteBuffer buf = ByteBuffer.allocateDirect(n * bs);
                long[] versions = new long[n];
                for (int i = 0; i < n; i++) {
                    versions[i] = nextVersion++;
                    buf.put(content(bs, b + i, versions[i]));
                }
                buf.flip();
                boolean fua = op.kind() == Kind.FUA_WRITE;
                assertNull(t.submit(Bio.Op.WRITE, fua ? Bio.REQ_FUA : 0, (long) b * bs / 512, n * bs, buf), where);
                for (int i = 0; i < n; i++) {
                    written(b + i, versions[i]);
                }
                if (fua && pmem) {
                    durable();
                }
            }
            case READ -> {
                ByteBuffer buf = ByteBuffer.allocateDirect(n * bs);
                assertNull(t.submit(Bio.Op.READ, 0, (long) b * bs / 512, n * bs, buf), where);
                for (int i = 0; i < n; i++) {
                    byte[] got = new byte[bs];
                    buf.get(i * bs, got);
                    assertArrayEquals(content(bs, b + i, current[b + i]), got, where + ": read of block " + (b + i));
                }
            }
            case DISCARD -> {
                assertNull(t.submit(Bio.Op.DISCARD, 0, (long) b * bs / 512, n * bs, null), where);
                for (int i = 0; i < n; i++) {
                    written(b + i, 0);
                }
            }
            case FLUSH -> {
                assertNull(t.flush(), where);
                durable();
            }
            case MESSAGE_FLUSH -> {
                t.message(new String[] {"flush"});
                assertEquals("0", t.status().split(" ")[3], where + ": nothing under writeback after message flush");
                durable();
            }
            case CLEAR_STATS -> t.message(new String[] {"clear_stats"});
            case CLEANER -> t.message(new String[] {"cleaner"});
            case RELOAD -> {
                t.remove();
                durable(); // suspend commits
                t = WritecacheTarget.create(cfg.table(), devs, sched, null, m -> { });
            }
            case CRASH -> {
                t.close();
                sched.shutdown();
                t = WritecacheTarget.create(cfg.table(), devs, sched, null, m -> { });
                crashes++;
                checkAfterCrash();
            }
            case ADVANCE -> sched.advance(Math.max(1, op.ms()));
        }
        sched.runPending();
        assertEquals("0", t.status().split(" ")[0], where + ": no error state");
        assertNull(t.engine().checkInvariants(), where + ": structures consistent");
    }

    /** Every block reads as a version the model allows; that version is what the device holds now. */
    private void checkAfterCrash() throws Exception {
        ByteBuffer buf = ByteBuffer.allocateDirect(blocks * bs);
        assertNull(t.submit(Bio.Op.READ, 0, 0, blocks * bs, buf), where + ": read after crash");
        for (int b = 0; b < blocks; b++) {
            byte[] got = new byte[bs];
            buf.get(b * bs, got);
            Long seen = null;
            for (long v : allowed.get(b)) {
                if (Arrays.equals(content(bs, b, v), got)) {
                    seen = v;
                    break;
                }
            }
            if (seen == null) {
                fail(where + ": after the crash block " + b + " reads as none of the versions " + allowed.get(b)
                        + " (newest " + current[b] + ")");
            }
            current[b] = seen;
        }
        durable();
    }

    /** Write everything back, remove the target: the origin must hold the newest version of every block. */
    void finish() throws Exception {
        t.message(new String[] {"flush"});
        t.remove();
        byte[] all = origin.snapshot();
        for (int b = 0; b < blocks; b++) {
            assertArrayEquals(content(bs, b, current[b]), Arrays.copyOfRange(all, b * bs, (b + 1) * bs),
                    where + ": origin block " + b + " after writing everything back (" + crashes + " crashes)");
        }
    }

    @Override
    public void close() throws IOException {
        if (dax != null) {
            dax.close();
            Files.deleteIfExists(pmemFile);
        }
    }
}
