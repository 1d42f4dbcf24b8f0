package dev.dmwc.writecache.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.writecache.block.BlockDevice;
import dev.dmwc.writecache.block.MemoryBlockDevice;
import dev.dmwc.writecache.block.ThrottledBlockDevice;
import dev.dmwc.writecache.engine.ThreadedScheduler;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BenchTest {
    /** An ssd-mode target with a 4 MiB in-memory cache over {@code origin}, on real threads. */
    private static WritecacheTarget smallTarget(BlockDevice origin) throws Exception {
        return WritecacheTarget.create(List.of("s", "origin", "cache", "4096", "0"),
                Map.of("origin", origin, "cache", new MemoryBlockDevice("cache", 4L << 20)),
                new ThreadedScheduler(Throwable::printStackTrace), null, m -> { });
    }

    @Test
    void everyPhaseRunsAndReportsAgainstItsBaseline() throws Exception {
        MemoryBlockDevice origin = new MemoryBlockDevice("origin", 64L << 20);
        WritecacheTarget t = smallTarget(new ThrottledBlockDevice(origin, ThrottledBlockDevice.Model.parse("latency=20us,bandwidth=400M,flush=100us")));
        Bench.Config cfg = new Bench.Config();
        cfg.scale = 0.05;
        cfg.threads = 2;
        cfg.absorbRounds = 3;
        cfg.warmupRounds = 2;
        List<Long> baselineRounds = new java.util.ArrayList<>();
        // two untimed warm-up rounds of the baseline (its loop JIT-compiled before it is measured), then one per absorb round
        double[] baselines = {1000, 1, 1000, 50, 2000};
        List<Bench.PhaseResult> rs = new Bench(t, cfg, null).run(bytes -> {
            baselineRounds.add(bytes);
            return baselines[baselineRounds.size() - 1];
        }, 400);
        assertEquals(Bench.PHASES, rs.stream().map(r -> r.phase).toList());
        for (Bench.PhaseResult r : rs) {
            assertTrue(r.ops > 0 && r.iops > 0 && r.p50us > 0, r.phase);
        }
        Bench.PhaseResult absorb = rs.get(0);
        // every baseline round (the warm-ups too) copies that round's bytes, or 50 ms of copies at the
        // rate measured before it if more: before any rate and after 1 MB/s the round's bytes; after
        // 1000 MB/s more than 64 rounds, so 64; after 50 MB/s 2.5 MB in whole blocks. One paired
        // round beside each absorb round; the median of the rounds' ratios
        assertEquals(2 + 3, baselineRounds.size());
        long roundBytes = absorb.writes / 3 * 4096;
        assertTrue(roundBytes > 50_000 && roundBytes < 2_498_560 && roundBytes * 64 > 2_500_000 && roundBytes * 64 < 50_000_000,
                "the sizes this test assumes: " + roundBytes);
        assertEquals(List.of(roundBytes, 64 * roundBytes, roundBytes, 64 * roundBytes, 2_498_560L), baselineRounds);
        assertEquals(3, absorb.roundRatios.length);
        double[] sorted = absorb.roundRatios.clone();
        java.util.Arrays.sort(sorted);
        assertEquals(sorted[1], absorb.ratio, 1e-12);
        assertEquals(1000, absorb.baselineMbPerSecond, 1e-9, "the median of the baseline rounds 1000, 50, 2000");
        Bench.PhaseResult drain = rs.get(1);
        assertTrue(drain.writebackMbPerSecond > 0 && drain.writebackRunBlocks >= 1, "drain wrote back");
        assertEquals(drain.writebackMbPerSecond / 400, drain.ratio, 1e-9);
        Bench.PhaseResult overflow = rs.get(2);
        assertEquals(overflow.writebackMbPerSecond / 400, overflow.ratio, 1e-9, "overflow's write-back beside the origin's sequential rate");
        assertEquals("writeback_mb_per_s", overflow.ratioOf);
        assertEquals("mb_per_s", absorb.ratioOf);
        // overflow, flush-heavy, mixed and zipf each start from a clean cache: every block free
        long blocks = t.engine().statusFields()[1];
        for (Bench.PhaseResult r : rs.subList(2, 6)) {
            assertEquals(blocks, r.freeBlocksAtStart, r.phase + " started from a clean cache");
        }
        assertTrue(rs.get(3).flushes > 0 && rs.get(3).flushP50us > 0, "flush-heavy flushed");
        assertTrue(rs.get(4).reads > 0 && rs.get(4).writes > 0, "mixed mixes");
        assertTrue(rs.get(5).readHitRate >= 0 && rs.get(5).readHitRate <= 1, "zipf reports its read hit rate");
        assertEquals(null, t.engine().checkInvariants());
        assertEquals(0, t.engine().statusFields()[0]);
        t.remove();
    }

    /**
     * A paired baseline round copies for at least 50 ms at the rate measured before it: a round of
     * the absorb round's bytes alone lasted a few ms, and read low by up to 3x (BENCHMARKS.md,
     * absorb, session 33).
     */
    @Test
    void aBaselineRoundCopiesForAtLeastFiftyMilliseconds() throws Exception {
        WritecacheTarget t = smallTarget(new MemoryBlockDevice("origin", 64L << 20));
        Bench b = new Bench(t, new Bench.Config(), null);
        long round = 1000L * 4096;
        assertEquals(round, b.baselineRoundBytes(round, Double.NaN), "no rate measured yet: the round's bytes");
        assertEquals(round, b.baselineRoundBytes(round, 50), "50 ms at 50 MB/s is less than the round");
        assertEquals(10_000_000 / 4096 * 4096, b.baselineRoundBytes(round, 200), "50 ms at 200 MB/s, in whole blocks");
        assertEquals(64 * round, b.baselineRoundBytes(round, 1e12), "at most 64 rounds");
        t.remove();
    }

    /** The origin's sequential baseline times its second pass: the first pays a sparse file's first touch. */
    @Test
    void sequentialBaselineTimesTheSecondPass() throws Exception {
        MemoryBlockDevice mem = new MemoryBlockDevice("origin", 8L << 20);
        java.util.Set<Long> touched = new java.util.HashSet<>();
        BlockDevice firstTouchIsSlow = new BlockDevice() {
            @Override public long sizeBytes() { return mem.sizeBytes(); }
            @Override public void read(long sector, ByteBuffer dst) throws java.io.IOException { mem.read(sector, dst); }
            @Override public void flush() throws java.io.IOException { mem.flush(); }
            @Override public void discard(long sector, long n) throws java.io.IOException { mem.discard(sector, n); }
            @Override public String name() { return "slow-first-touch"; }
            @Override public void close() throws java.io.IOException { mem.close(); }

            @Override
            public void write(long sector, ByteBuffer src, boolean fua) throws java.io.IOException {
                if (touched.add(sector >> 11)) { // the first write to each MiB: 20 ms
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        throw new java.io.IOException(e);
                    }
                }
                mem.write(sector, src, fua);
            }
        };
        double mbps = Bench.sequentialBaseline(firstTouchIsSlow, 8L << 20);
        // timing the first pass would give at most 8 MiB / 160 ms = 52 MB/s
        assertTrue(mbps > 200, "the second pass is timed: " + mbps + " MB/s");
        assertEquals(8, touched.size());
    }

    /**
     * Bench.stop (a Ctrl-C) ends the phase in progress, which is reported with what it sent and
     * why; the phases after it do not run.
     */
    @Test
    void aStopEndsThePhaseInProgressAndRunsNoMore() throws Exception {
        // an origin slow enough that overflow, which waits for writeback, outlasts the first progress
        // update (up to 200 ms a thread): at 2 ms it sometimes ended first, and the stop came too late
        WritecacheTarget t = smallTarget(new ThrottledBlockDevice(new MemoryBlockDevice("origin", 64L << 20),
                ThrottledBlockDevice.Model.parse("latency=50ms,bandwidth=100M")));
        Bench.Config cfg = new Bench.Config();
        cfg.threads = 2;
        cfg.absorbRounds = 1;
        cfg.warmupRounds = 1;
        cfg.phases = List.of("absorb", "overflow", "mixed");
        long overflowOps = t.engine().nBlocks() * 2;
        Bench[] bench = new Bench[1];
        bench[0] = new Bench(t, cfg, new dev.dmwc.writecache.replay.Replayer.Progress() {
            @Override
            public void update(long done, long total, double seconds) {
                if (total == overflowOps && done < total) {
                    bench[0].stop("TEST"); // overflow has begun and is not over
                }
            }

            @Override
            public void done() {
            }
        });
        List<Bench.PhaseResult> rs = bench[0].run(bytes -> 1000, 400);
        assertEquals(List.of("absorb", "overflow"), rs.stream().map(r -> r.phase).toList(), "mixed never began");
        assertEquals(null, rs.get(0).stopped);
        Bench.PhaseResult o = rs.get(1);
        assertEquals("TEST", o.stopped);
        assertEquals(overflowOps, o.plannedOps);
        assertTrue(o.ops > 0 && o.ops < o.plannedOps, o.ops + " of " + o.plannedOps);
        assertEquals("TEST", bench[0].stoppedBy());
        assertEquals("TEST", o.toMap().get("stopped"));
        t.remove();
    }

    /** A phase run alone warms up first, as absorb does (cold code would be measured; overflow tipped into write-around). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"drain", "overflow", "zipf"})
    void aPhaseAloneWarmsUpFirst(String phase) throws Exception {
        long[] writes = new long[2];
        for (int warm = 0; warm < 2; warm++) {
            WritecacheTarget t = smallTarget(new MemoryBlockDevice("origin", 64L << 20));
            Bench.Config cfg = new Bench.Config();
            cfg.scale = 0.05;
            cfg.threads = 1;
            cfg.phases = List.of(phase);
            cfg.warmupRounds = warm * 3;
            List<Bench.PhaseResult> rs = new Bench(t, cfg, null).run(bytes -> 1000, 400);
            writes[warm] = t.engine().statusFields()[6] - rs.get(0).writes;
            t.remove();
        }
        assertEquals(0, writes[0], "no warm-up: the engine saw only the " + phase + "'s writes");
        assertTrue(writes[1] > 0, "three warm-up rounds wrote before the " + phase + ": " + writes[1]);
    }

    @Test
    void zipfPrefersItsHead() {
        Zipf z = new Zipf(100_000, 1.2);
        SplittableRandom r = new SplittableRandom(3);
        int head = 0;
        for (int i = 0; i < 100_000; i++) {
            long x = z.next(r);
            assertTrue(x >= 0 && x < 100_000);
            if (z.rank(r) < 100) {
                head++;
            }
        }
        assertTrue(head > 50_000, "the 100 hottest of 100k items take most draws at s=1.2: " + head);
    }

    @Test
    void throttledDeviceTakesTheModelsTimeAndModelsParse() throws Exception {
        MemoryBlockDevice inner = new MemoryBlockDevice("d", 32L << 20);
        ThrottledBlockDevice d = new ThrottledBlockDevice(inner, ThrottledBlockDevice.Model.parse("latency=1ms,bandwidth=100M"));
        long t0 = System.nanoTime();
        d.write(0, ByteBuffer.allocate(10 << 20), false); // 10 MiB at 100 MiB/s: at least 0.1 s
        double s = (System.nanoTime() - t0) / 1e9;
        assertTrue(s >= 0.099, "took " + s);
        t0 = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            d.read(1000 * i, ByteBuffer.allocate(512)); // 20 seeks of 1 ms
        }
        assertTrue((System.nanoTime() - t0) / 1e9 >= 0.019);
        assertEquals(ThrottledBlockDevice.Model.FILE, ThrottledBlockDevice.Model.parse("file"));
        assertEquals("hdd", ThrottledBlockDevice.Model.parse("HDD").name());
        ThrottledBlockDevice.Model m = ThrottledBlockDevice.Model.parse("latency=80us,bandwidth=1.5G,flush=2ms");
        assertEquals(80_000, m.seekNanos());
        assertEquals((long) (1.5 * (1L << 30)), m.bytesPerSecond());
        assertEquals(2_000_000, m.flushNanos());
        for (String bad : List.of("fast", "latency=5ms", "latency=x,bandwidth=1M", "latency=1ms,bandwidth=-1M", "speed=1")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ThrottledBlockDevice.Model.parse(bad));
            assertTrue(e.getMessage().startsWith("origin model '" + bad + "'"), e.getMessage());
        }
    }

    /** A model's queue depth: how many writeback I/Os the engine keeps in flight to the origin. */
    @Test
    void aModelNamesItsQueueDepth() {
        ThrottledBlockDevice.Model ssd = ThrottledBlockDevice.Model.parse("ssd");
        assertEquals(128, ssd.queueDepth(), "flash: blk-mq's default queue of a loop or nbd device");
        assertTrue(ssd.toString().endsWith("flush 1.000 ms, queue depth 128)"), ssd.toString());
        assertEquals(32, ThrottledBlockDevice.Model.parse("hdd").queueDepth(), "a disk: NCQ");
        assertTrue(ThrottledBlockDevice.Model.parse("hdd").toString().endsWith("queue depth 32)"));
        assertEquals(128, ThrottledBlockDevice.Model.parse("latency=1ms,bandwidth=100M").queueDepth());
        assertEquals(32, ThrottledBlockDevice.Model.parse("latency=8ms,bandwidth=100M,rpm=7200").queueDepth());
        assertEquals(8, ThrottledBlockDevice.Model.parse("latency=1ms,bandwidth=100M,depth=8").queueDepth());
        assertEquals(64, ThrottledBlockDevice.Model.parse("hdd,depth=64").queueDepth());

        ThrottledBlockDevice.Model shallow = ThrottledBlockDevice.Model.parse("ssd,depth=32");
        assertEquals(new ThrottledBlockDevice.Model("ssd", ssd.seekNanos(), ssd.sequentialNanos(), ssd.bytesPerSecond(), ssd.flushNanos(),
                0L, 0L, 0L, 32), shallow, "ssd with its queue depth changed, the rest ssd's");
        ThrottledBlockDevice.Model slowFlush = ThrottledBlockDevice.Model.parse("ssd,flush=5ms");
        assertEquals(5_000_000L, slowFlush.flushNanos());
        assertEquals(ssd.sequentialNanos(), slowFlush.sequentialNanos(), "ssd keeps its sequential latency");
        assertEquals(5_000L, ThrottledBlockDevice.Model.parse("ssd,latency=5us").sequentialNanos(), "at most its latency");

        for (String bad : List.of("ssd,depth=0", "ssd,depth=4097", "ssd,depth=deep", "latency=1ms,bandwidth=1M,depth=-1")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ThrottledBlockDevice.Model.parse(bad));
            assertTrue(e.getMessage().startsWith("origin model '" + bad + "'") && e.getMessage().contains("is not a queue depth from 1 to 4096"),
                    e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ThrottledBlockDevice.Model.parse("ssd,rpm=7200"));
        assertTrue(e.getMessage().contains("rpm= makes a disk"), e.getMessage());

        // file: no time taken, a queue depth all the same (a real device given with --origin has one)
        ThrottledBlockDevice.Model file = ThrottledBlockDevice.Model.parse("file");
        assertEquals(32, file.queueDepth());
        assertFalse(file.isThrottled());
        assertEquals("file (as fast as the file, queue depth 32)", file.toString());
        ThrottledBlockDevice.Model deep = ThrottledBlockDevice.Model.parse("file,depth=256");
        assertEquals(256, deep.queueDepth());
        assertFalse(deep.isThrottled());
        MemoryBlockDevice inner = new MemoryBlockDevice("d", 1 << 20);
        assertSame(inner, ThrottledBlockDevice.wrap(inner, deep), "nothing between the engine and the file");
        assertTrue(ThrottledBlockDevice.wrap(inner, ssd) instanceof ThrottledBlockDevice);
        assertThrows(IllegalArgumentException.class, () -> new ThrottledBlockDevice(inner, deep));
        for (String bad : List.of("file,latency=1ms", "file,depth=8,flush=1ms", "file,depth=0")) {
            e = assertThrows(IllegalArgumentException.class, () -> ThrottledBlockDevice.Model.parse(bad));
            assertTrue(e.getMessage().startsWith("origin model '" + bad + "'"), e.getMessage());
        }
    }
}
