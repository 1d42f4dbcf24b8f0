package dev.dmwc.writecache.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.MemoryBlockDevice;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random write / FUA / read / discard / flush / message / reload / crash sequences through a
 * small target in both modes (so writeback, write-around and freelist waits happen), against a
 * model of the logical device. Every block's content is derived from (block, version), so a read
 * names the version it saw.
 *
 * <p>Without a crash every read must return the newest version. A crash (all in-memory state
 * dropped, the target loaded again from the devices) may lose what was not made durable: each
 * block must then read as the version it had at the last completed flush (FUA too in pmem mode,
 * where a FUA write commits; ssd mode commits only on flush, see test-data/kernel/ssd-fua) or as a
 * version written after it — never anything else. Structural invariants are checked after every
 * step. Seeds are printed in every failure message.
 */
class RandomOpsAgainstModelTest {
    static final int STEPS = Integer.getInteger("dmwc.randomOps.steps", 1500);

    @TempDir
    Path dir;

    static Stream<Arguments> cases() {
        long seeds = Long.getLong("dmwc.randomOps.seeds", 24);
        return Stream.of("s", "p").flatMap(m -> LongStream.rangeClosed(1, seeds).mapToObj(s -> Arguments.of(m, s)));
    }

    /** The logical device: per block, the newest version and every version a crash may leave. */
    static final class Model {
        final long[] current;
        final List<Set<Long>> allowed = new ArrayList<>();

        Model(int blocks) {
            current = new long[blocks];
            for (int i = 0; i < blocks; i++) {
                allowed.add(new HashSet<>(Set.of(0L)));
            }
        }

        void write(int b, long v) {
            current[b] = v;
            allowed.get(b).add(v);
        }

        /** A completed flush: only the newest version of every block may survive a crash now. */
        void durable() {
            for (int b = 0; b < current.length; b++) {
                Set<Long> s = allowed.get(b);
                s.clear();
                s.add(current[b]);
            }
        }
    }

    static byte[] content(int bs, int block, long version) {
        byte[] d = new byte[bs];
        if (version != 0) {
            new SplittableRandom(block * 1_000_003L + version * 7_919L).nextBytes(d);
        }
        return d;
    }

    @ParameterizedTest(name = "mode {0} seed {1}")
    @MethodSource("cases")
    void readsReturnWhatTheModelHolds(String mode, long seed) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        boolean pmem = mode.equals("p");
        int bs = r.nextBoolean() ? 4096 : (pmem ? 512 : 512 << r.nextInt(3));
        long originBytes = 2 << 20;
        int blocks = (int) (originBytes / bs);
        MemoryBlockDevice origin = new MemoryBlockDevice("origin", originBytes);
        Map<String, Object> devs = new HashMap<>();
        devs.put("o", origin);
        DaxDevice dax = null;
        if (pmem) {
            Path f = dir.resolve("pmem-" + seed + ".img");
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(512 << 10);
            }
            dax = DaxDevice.open(f, new DaxDevice.Options().backend(ProtectionKeys.Backend.SOFTWARE));
            devs.put("c", dax);
        } else {
            devs.put("c", new MemoryBlockDevice("cache", 256 << 10));
        }
        try {
            run(r, mode, seed, bs, blocks, origin, devs);
        } finally {
            if (dax != null) {
                dax.close();
            }
        }
    }

    private void run(SplittableRandom r, String mode, long seed, int bs, int blocks, MemoryBlockDevice origin,
            Map<String, Object> devs) throws Exception {
        boolean pmem = mode.equals("p");
        VirtualScheduler sched = new VirtualScheduler();
        List<String> table = new ArrayList<>(List.of(mode, "o", "c", Integer.toString(bs), "4", "autocommit_blocks",
                Integer.toString(1 + r.nextInt(40)), "autocommit_time", Integer.toString(100 + r.nextInt(5000))));
        if (!pmem) {
            table.set(4, "6");
            table.addAll(List.of("pause_writeback", Integer.toString(r.nextInt(2) * 1000)));
        }
        WritecacheTarget t = WritecacheTarget.create(table, devs, sched, null, m -> { });
        Model model = new Model(blocks);
        long nextVersion = 1;
        int crashes = 0;
        for (int step = 0; step < STEPS; step++) {
            int op = r.nextInt(100);
            int b = r.nextInt(blocks - 8);
            int n = 1 + r.nextInt(Math.min(8, blocks - b));
            String where = "mode " + mode + " seed " + seed + " step " + step;
            if (op < 45) {
                ByteBuffer buf = ByteBuffer.allocateDirect(n * bs);
                long[] versions = new long[n];
                for (int i = 0; i < n; i++) {
                    versions[i] = nextVersion++;
                    buf.put(content(bs, b + i, versions[i]));
                }
                buf.flip();
                boolean fua = r.nextInt(10) == 0;
                assertNull(t.submit(Bio.Op.WRITE, fua ? Bio.REQ_FUA : 0, (long) b * bs / 512, n * bs, buf), where);
                for (int i = 0; i < n; i++) {
                    model.write(b + i, versions[i]);
                }
                if (fua && pmem) {
                    model.durable();
                }
            } else if (op < 78) {
                ByteBuffer buf = ByteBuffer.allocateDirect(n * bs);
                assertNull(t.submit(Bio.Op.READ, 0, (long) b * bs / 512, n * bs, buf), where);
                for (int i = 0; i < n; i++) {
                    byte[] got = new byte[bs];
                    buf.get(i * bs, got);
                    assertArrayEquals(content(bs, b + i, model.current[b + i]), got, where + ": read of block " + (b + i));
                }
            } else if (op < 84) {
                assertNull(t.submit(Bio.Op.DISCARD, 0, (long) b * bs / 512, n * bs, null), where);
                for (int i = 0; i < n; i++) {
                    model.write(b + i, 0);
                }
            } else if (op < 90) {
                assertNull(t.flush(), where);
                model.durable();
            } else if (op < 93) {
                t.message(new String[] {"flush"});
                assertEquals("0", t.status().split(" ")[3], where + ": nothing under writeback after message flush");
                model.durable();
            } else if (op < 95) {
                t.remove();
                model.durable(); // suspend commits
                t = WritecacheTarget.create(table, devs, sched, null, m -> { });
            } else if (op < 97) {
                // power cut: drop everything in memory, load again from what the devices hold
                t.close();
                sched.shutdown();
                t = WritecacheTarget.create(table, devs, sched, null, m -> { });
                crashes++;
                checkAfterCrash(t, model, bs, blocks, where);
            } else {
                sched.advance(1 + r.nextInt(5000));
            }
            sched.runPending();
            assertEquals("0", t.status().split(" ")[0], where + ": no error state");
            assertNull(t.engine().checkInvariants(), where + ": structures consistent");
        }
        t.message(new String[] {"flush"});
        t.remove();
        byte[] all = origin.snapshot();
        for (int b = 0; b < blocks; b++) {
            byte[] got = java.util.Arrays.copyOfRange(all, b * bs, (b + 1) * bs);
            assertArrayEquals(content(bs, b, model.current[b]), got,
                    "mode " + mode + " seed " + seed + ": origin block " + b + " after writing everything back ("
                            + crashes + " crashes)");
        }
    }

    /** Every block reads as a version the model allows; that version is what the device holds now. */
    private static void checkAfterCrash(WritecacheTarget t, Model model, int bs, int blocks, String where) throws Exception {
        ByteBuffer buf = ByteBuffer.allocateDirect(blocks * bs);
        assertNull(t.submit(Bio.Op.READ, 0, 0, blocks * bs, buf), where + ": read after crash");
        for (int b = 0; b < blocks; b++) {
            byte[] got = new byte[bs];
            buf.get(b * bs, got);
            Long seen = null;
            for (long v : model.allowed.get(b)) {
                if (java.util.Arrays.equals(content(bs, b, v), got)) {
                    seen = v;
                    break;
                }
            }
            if (seen == null) {
                fail(where + ": after the crash block " + b + " reads as none of the versions " + model.allowed.get(b)
                        + " (newest " + model.current[b] + ")");
            }
            model.current[b] = seen;
        }
        model.durable();
    }

    /**
     * The state in which Linux 6.1 oopses in writecache_writeback (oracle console in
     * test-data/kernel-bugs/ssd-writeback-freed-entry): dmwc steps around it, logs it, and loses
     * nothing.
     */
    @Test
    void writebackOfAnOldestBlockFreedByItsOwnCommitIsSkippedNotCorrupted() throws Exception {
        MemoryBlockDevice origin = new MemoryBlockDevice("origin", 8 << 20);
        Map<String, Object> devs = new HashMap<>();
        devs.put("o", origin);
        devs.put("c", new MemoryBlockDevice("cache", 1 << 20));
        VirtualScheduler sched = new VirtualScheduler();
        List<String> log = new ArrayList<>();
        WritecacheTarget t = WritecacheTarget.create(List.of("s", "o", "c", "4096", "8", "autocommit_time", "3600000",
                "high_watermark", "1", "low_watermark", "0", "pause_writeback", "0"), devs, sched, null, log::add);
        ByteBuffer p = ByteBuffer.allocateDirect(4096);
        p.put(content(4096, 1, 1)).flip();
        assertNull(t.submit(Bio.Op.WRITE, 0, 8, 4096, p));
        ByteBuffer q = ByteBuffer.allocateDirect(8192);
        q.put(content(4096, 0, 2)).put(content(4096, 1, 3)).flip();
        assertNull(t.submit(Bio.Op.WRITE, 0, 0, 8192, q)); // block 1 again: a duplicate of the uncommitted P
        sched.runPending();
        assertEquals(1, t.engine().kernelBugsAvoided());
        assertTrue(log.stream().anyMatch(l -> l.contains("Linux 6.1 would BUG")), log.toString());
        assertNull(t.engine().checkInvariants());
        ByteBuffer rd = ByteBuffer.allocateDirect(8192);
        assertNull(t.submit(Bio.Op.READ, 0, 0, 8192, rd));
        byte[] got = new byte[8192];
        rd.get(0, got);
        assertArrayEquals(content(4096, 0, 2), java.util.Arrays.copyOfRange(got, 0, 4096));
        assertArrayEquals(content(4096, 1, 3), java.util.Arrays.copyOfRange(got, 4096, 8192));
        t.message(new String[] {"flush"});
        t.remove();
        byte[] o = origin.snapshot();
        assertArrayEquals(content(4096, 1, 3), java.util.Arrays.copyOfRange(o, 4096, 8192));
    }
}
