package dev.dmwc.writecache.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.MemoryBlockDevice;
import dev.dmwc.writecache.engine.ModelHarness.Kind;
import dev.dmwc.writecache.engine.ModelHarness.Op;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Long seeded random op sequences through {@link ModelHarness} in both modes (the jqwik property
 * {@link OpSequenceProperties} explores shorter ones and shrinks failures). Seeds are in every
 * failure message; {@code -Ddmwc.randomOps.seeds=N -Ddmwc.randomOps.steps=M} for a deep run.
 */
class RandomOpsAgainstModelTest {
    static final int STEPS = Integer.getInteger("dmwc.randomOps.steps", 1500);

    static Stream<Arguments> cases() {
        long seeds = Long.getLong("dmwc.randomOps.seeds", 24);
        return Stream.of("s", "p").flatMap(m -> LongStream.rangeClosed(1, seeds).mapToObj(s -> Arguments.of(m, s)));
    }

    static Kind kind(int r) {
        if (r < 40) return Kind.WRITE;
        if (r < 45) return Kind.FUA_WRITE;
        if (r < 78) return Kind.READ;
        if (r < 84) return Kind.DISCARD;
        if (r < 90) return Kind.FLUSH;
        if (r < 93) return Kind.MESSAGE_FLUSH;
        if (r < 94) return Kind.CLEAR_STATS;
        if (r < 95) return Kind.RELOAD;
        if (r < 97) return Kind.CRASH;
        return Kind.ADVANCE;
    }

    @ParameterizedTest(name = "mode {0} seed {1}")
    @MethodSource("cases")
    void readsReturnWhatTheModelHolds(String mode, long seed) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        boolean pmem = mode.equals("p");
        int bs = r.nextBoolean() ? 4096 : (pmem ? 512 : 512 << r.nextInt(3));
        ModelHarness.Config cfg = new ModelHarness.Config(mode, bs, 1 + r.nextInt(40), 100 + r.nextInt(5000),
                r.nextInt(2) * 1000);
        try (ModelHarness h = new ModelHarness(cfg)) {
            for (int step = 0; step < STEPS; step++) {
                Op op = new Op(kind(r.nextInt(100)), r.nextInt(1 << 20), 1 + r.nextInt(8), 1 + r.nextInt(5000));
                h.where = "mode " + mode + " seed " + seed + " step " + step + " " + op;
                h.apply(op);
            }
            h.where = "mode " + mode + " seed " + seed;
            h.finish();
        }
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
        p.put(ModelHarness.content(4096, 1, 1)).flip();
        assertNull(t.submit(Bio.Op.WRITE, 0, 8, 4096, p));
        ByteBuffer q = ByteBuffer.allocateDirect(8192);
        q.put(ModelHarness.content(4096, 0, 2)).put(ModelHarness.content(4096, 1, 3)).flip();
        assertNull(t.submit(Bio.Op.WRITE, 0, 0, 8192, q)); // block 1 again: a duplicate of the uncommitted P
        sched.runPending();
        assertEquals(1, t.engine().kernelBugsAvoided());
        assertTrue(log.stream().anyMatch(l -> l.contains("Linux 6.1 would BUG")), log.toString());
        assertNull(t.engine().checkInvariants());
        ByteBuffer rd = ByteBuffer.allocateDirect(8192);
        assertNull(t.submit(Bio.Op.READ, 0, 0, 8192, rd));
        byte[] got = new byte[8192];
        rd.get(0, got);
        assertArrayEquals(ModelHarness.content(4096, 0, 2), java.util.Arrays.copyOfRange(got, 0, 4096));
        assertArrayEquals(ModelHarness.content(4096, 1, 3), java.util.Arrays.copyOfRange(got, 4096, 8192));
        t.message(new String[] {"flush"});
        t.remove();
        assertArrayEquals(ModelHarness.content(4096, 1, 3), java.util.Arrays.copyOfRange(origin.snapshot(), 4096, 8192));
    }

    /**
     * An engine on the single-threaded scheduler elides wc_lock: a second thread driving it is a
     * caller's bug, refused loudly instead of racing; on the threaded scheduler any thread may.
     */
    @Test
    void aSingleThreadedEngineRefusesASecondThread() throws Exception {
        Map<String, Object> devs = new HashMap<>();
        devs.put("o", new MemoryBlockDevice("origin", 1 << 20));
        devs.put("c", new MemoryBlockDevice("cache", 1 << 20));
        WritecacheTarget t = WritecacheTarget.create(List.of("s", "o", "c", "4096", "0"), devs, new VirtualScheduler(), null, m -> { });
        ByteBuffer p = ByteBuffer.allocateDirect(4096);
        assertNull(t.submit(Bio.Op.WRITE, 0, 8, 4096, p.duplicate()));
        Throwable[] seen = new Throwable[1];
        Thread other = new Thread(() -> {
            try {
                t.submit(Bio.Op.WRITE, 0, 16, 4096, p.duplicate());
            } catch (Throwable e) {
                seen[0] = e;
            }
        }, "second-driver");
        other.start();
        other.join();
        assertTrue(seen[0] instanceof IllegalStateException && seen[0].getMessage().contains("not second-driver"),
                String.valueOf(seen[0]));
        assertNull(t.submit(Bio.Op.WRITE, 0, 24, 4096, p.duplicate()), "the owner goes on");
        assertNull(t.engine().checkInvariants());
        t.remove();

        devs.put("c", new MemoryBlockDevice("cache", 1 << 20));
        ThreadedScheduler threaded = new ThreadedScheduler(e -> { });
        WritecacheTarget u = WritecacheTarget.create(List.of("s", "o", "c", "4096", "0"), devs, threaded, null, m -> { });
        assertNull(u.submit(Bio.Op.WRITE, 0, 8, 4096, p.duplicate()));
        Thread ok = new Thread(() -> seen[0] = u.submit(Bio.Op.WRITE, 0, 16, 4096, p.duplicate()) == null ? null : new AssertionError());
        ok.start();
        ok.join();
        assertNull(seen[0]);
        u.remove();
        threaded.shutdown();
    }
}
