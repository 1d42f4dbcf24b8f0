package dev.dmwc.writecache.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DiskArmTest {
    /** 8 ms average seek (1 ms settle), 100 MiB/s, 6000 rpm: a 10 ms rotation, a 1 MiB track. */
    private static final ThrottledBlockDevice.Model DISK = ThrottledBlockDevice.Model.parse("latency=8ms,bandwidth=100M,rpm=6000");
    private static final long SIZE = 1L << 30;
    private static final long SECTORS = SIZE >> 9;
    private static final long BLOCK_NANOS = (long) (4096 * 1e9 / (100 << 20));

    @Test
    void modelsParseAsDisksOnlyWithARotation() {
        assertEquals(10_000_000L, DISK.rotationNanos());
        assertTrue(DISK.isDisk());
        assertEquals("custom disk", DISK.name());
        assertTrue(ThrottledBlockDevice.Model.parse("hdd").isDisk());
        assertEquals(8_333_333L, ThrottledBlockDevice.Model.parse("hdd").rotationNanos());
        assertTrue(!ThrottledBlockDevice.Model.parse("ssd").isDisk());
        assertTrue(!ThrottledBlockDevice.Model.parse("latency=1ms,bandwidth=1G").isDisk());
        assertTrue(ThrottledBlockDevice.Model.parse("hdd").toString().contains("7200 rpm, 143 MiB/s, 32 MiB write cache"),
                ThrottledBlockDevice.Model.parse("hdd").toString());
        assertEquals(0, DISK.cacheBytes(), "a custom disk writes through unless given a cache");
        assertEquals(8L << 20, ThrottledBlockDevice.Model.parse("latency=8ms,bandwidth=100M,rpm=6000,cache=8M").cacheBytes());
        for (String bad : List.of("latency=8ms,bandwidth=100M,rpm=fast", "latency=8ms,bandwidth=100M,rpm=0")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ThrottledBlockDevice.Model.parse(bad));
            assertTrue(e.getMessage().contains("is not a rotation speed"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ThrottledBlockDevice.Model.parse("latency=8ms,bandwidth=100M,cache=8M"));
        assertTrue(e.getMessage().contains("it needs rpm="), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ThrottledBlockDevice.Model.parse("latency=8ms,bandwidth=100M,rpm=7200,cache=big"));
        assertTrue(e.getMessage().contains("'big' is not a size"), e.getMessage());
    }

    @Test
    void aDiskSizeMakesTheDeviceAPartAtItsStartAndItsSeeksShort() {
        ThrottledBlockDevice.Model big = ThrottledBlockDevice.Model.parse("hdd,size=4T");
        assertEquals(4L << 40, big.diskBytes());
        assertEquals("hdd", big.name());
        assertEquals(ThrottledBlockDevice.Model.parse("hdd").cacheBytes(), big.cacheBytes(), "the rest is hdd's");
        assertEquals(ThrottledBlockDevice.Model.parse("hdd").seekNanos(), big.seekNanos());
        assertTrue(big.toString().contains("disk of 4096 GiB, the device at its start"), big.toString());
        assertEquals(64L << 20, ThrottledBlockDevice.Model.parse("hdd,cache=64M").cacheBytes());
        assertEquals(1L << 40, ThrottledBlockDevice.Model.parse("latency=8ms,bandwidth=100M,rpm=6000,size=1T").diskBytes());
        long wholeStroke = new DiskArm(ThrottledBlockDevice.Model.parse("hdd"), SIZE).positioningNanos(0, SECTORS);
        long partStroke = new DiskArm(big, SIZE).positioningNanos(0, SECTORS);
        assertTrue(wholeStroke > 13_000_000L, "across a 1 GiB disk: a full stroke and half a rotation, " + wholeStroke);
        assertTrue(partStroke < 1_300_000L + 4_200_000L, "across 1 GiB of a 4 TiB disk: little more than the settle time, " + partStroke);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ThrottledBlockDevice.Model.parse("latency=1ms,bandwidth=100M,size=4T"));
        assertTrue(e.getMessage().contains("size= is the size of a disk: it needs rpm="), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ThrottledBlockDevice.Model.parse("hdd,size=huge"));
        assertTrue(e.getMessage().contains("'huge' is not a size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ThrottledBlockDevice.Model.parse("hdd,speed=2"));
        assertTrue(e.getMessage().contains("unknown key 'speed'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new ThrottledBlockDevice(new MemoryBlockDevice("disk", 8L << 20), ThrottledBlockDevice.Model.parse("hdd,size=4M")));
        assertTrue(e.getMessage().contains("is smaller than the device"), e.getMessage());
    }

    @Test
    void positioningIsNothingInLineAPassOfThePlatterWithinATrackAndASeekAndHalfARotationElsewhere() {
        DiskArm arm = new DiskArm(DISK, SIZE);
        assertEquals(0, arm.positioningNanos(4096, 4096));
        assertEquals(BLOCK_NANOS, arm.positioningNanos(0, 8), "4 KiB ahead: the platter brings it round");
        assertEquals(10_000_000L, arm.positioningNanos(0, 2048), 1, "a whole track ahead: one rotation");
        assertEquals(1_000_000L + 7_000_000L + 5_000_000L, arm.positioningNanos(0, SECTORS / 3), 1000,
                "a third of the stroke: the average seek and half a rotation");
        assertEquals(arm.positioningNanos(0, SECTORS / 3), arm.positioningNanos(SECTORS / 3, 0), 1, "backward as forward");
        long back = arm.positioningNanos(8, 0);
        assertTrue(back > 6_000_000L && back < 6_100_000L, "4 KiB behind: a short seek and half a rotation, " + back);
        assertTrue(arm.positioningNanos(0, SECTORS) > 18_000_000L, "a full stroke");
    }

    @Test
    void queuedRequestsAreServedInAscendingOrderFromTheHead() {
        DiskArm arm = new DiskArm(DISK, SIZE);
        long far = SECTORS / 2;
        long[] done = arm.placeAt(0, 4096, false, far, 16, 0);
        long atZero = BLOCK_NANOS;
        long at16 = atZero + BLOCK_NANOS + BLOCK_NANOS; // head at 8 after the first: 4 KiB of platter, then 4 KiB
        assertEquals(atZero, done[2], "the request under the head goes first");
        assertEquals(at16, done[1], "then the one just ahead");
        assertEquals(at16 + arm.positioningNanos(24, far) + BLOCK_NANOS, done[0], "the far one last");
        assertEquals(3, arm.counts()[0]);
        assertEquals(2, arm.counts()[1], "two moves of the head: the 4 KiB gap and the seek");
    }

    @Test
    void aStreamTheHeadMeetsFromAboveIsWrittenFromItsStartNotBackwards() {
        // 600 cached writes of 16 KiB in a row at the start of the disk, the head far above them (as
        // a drain found them after random write-back): one seek to the lowest, then in line
        DiskArm arm = new DiskArm(ThrottledBlockDevice.Model.parse("latency=8ms,bandwidth=100M,rpm=6000,cache=32M"), SIZE);
        arm.placeAt(0, 4096, false, SECTORS - 8);
        long[] stream = new long[600];
        for (int i = 0; i < stream.length; i++) {
            stream[stream.length - 1 - i] = i * 32L; // queued in descending order, to be sure order of arrival plays no part
        }
        arm.placeAt(0, 16384, true, stream);
        long start = arm.flush(0);
        long expected = arm.positioningNanos(0, SECTORS - 8) + BLOCK_NANOS + arm.positioningNanos(SECTORS, 0) + 600 * 4 * BLOCK_NANOS;
        assertEquals(expected, start, 600 * 2, "a full stroke back, then the stream at the media rate");
        assertEquals(2, arm.counts()[1], "two moves of the head: to the far write, and back to the stream's start");
    }

    @Test
    void aRequestIsPlacedOnlyWhenTheArmIsFreeWithinTheLookaheadAndThenTheNextAheadWins() {
        DiskArm arm = new DiskArm(DISK, SIZE);
        long[] first = arm.placeAt(0, 4096, false, SECTORS / 2, SECTORS - 8);
        assertTrue(first[0] > 10_000_000L, "the arm is busy seeking: " + first[0]);
        assertEquals(-1, first[1], "the second waits: the arm is not free within the lookahead");
        long[] later = arm.placeAt(first[0] - DiskArm.LOOKAHEAD_NANOS, 4096, false, SECTORS / 2 + 8);
        assertEquals(first[0] + BLOCK_NANOS, later[0], "a later request in line with the head goes before the queued far one");
    }

    @Test
    void concurrentRandomRequestsWaitForOneArmRatherThanOverlap() throws Exception {
        // 64 writes 4 MiB apart (ten tracks), from 16 threads: each one a seek of at least the
        // settle time (0.25 ms) and half a rotation (2 ms). A device whose latencies overlap did
        // these in about a sixteenth of the time.
        ThrottledBlockDevice.Model m = ThrottledBlockDevice.Model.parse("latency=2ms,bandwidth=100M,rpm=15000");
        ThrottledBlockDevice d = new ThrottledBlockDevice(new MemoryBlockDevice("disk", 256L << 20), m);
        List<Thread> threads = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int t = 0; t < 16; t++) {
            int thread = t;
            Thread th = new Thread(() -> {
                for (int i = 0; i < 4; i++) {
                    long sector = ((i * 16L + thread) * 37 % 64) * (4L << 20 >> 9); // 4 MiB apart, scrambled
                    try {
                        d.write(sector, ByteBuffer.allocate(4096), false);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        for (Thread t : threads) {
            t.join();
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        assertTrue(ms >= 63 * 2.25, "63 seeks (the first write is under the head) on one arm take at least 142 ms; took " + ms);
    }

    @Test
    void theWriteCacheTakesWritesUntilFullAndAFlushWaitsUntilTheyAreOnTheMedia() throws Exception {
        // 1 MiB cache; 4 KiB writes 4 MiB apart, each a seek of at least 2.25 ms once written out
        ThrottledBlockDevice.Model m = ThrottledBlockDevice.Model.parse("latency=2ms,bandwidth=100M,rpm=15000,cache=1M,flush=0");
        ThrottledBlockDevice d = new ThrottledBlockDevice(new MemoryBlockDevice("disk", 256L << 20), m);
        long t0 = System.nanoTime();
        for (int i = 1; i <= 32; i++) {
            d.write(i * (4L << 20 >> 9), ByteBuffer.allocate(4096), false);
        }
        double cachedMs = (System.nanoTime() - t0) / 1e6;
        // the only wall-clock upper bound here, as loose as the claim allows: had the writes waited
        // for the arm, they would have taken at least its 32 seeks (72 ms), as the flush below does
        assertTrue(cachedMs < 32 * 2.25, "32 writes that fit the cache complete without waiting for the arm: " + cachedMs + " ms");
        d.flush();
        double flushedMs = (System.nanoTime() - t0) / 1e6;
        assertTrue(flushedMs >= 32 * 2.25, "the flush waits for all 32 to be written, one seek each: " + flushedMs + " ms");
        t0 = System.nanoTime();
        d.write(8, ByteBuffer.allocate(4096), true);
        assertTrue((System.nanoTime() - t0) / 1e6 >= 2.25, "a FUA write waits for its own seek");
        t0 = System.nanoTime();
        for (int i = 1; i <= 300; i++) { // 1.2 MiB: the last ones wait for room
            d.write(i * (4L << 20 >> 9) % (256L << 20 >> 9) + 64, ByteBuffer.allocate(4096), false);
        }
        double fullMs = (System.nanoTime() - t0) / 1e6;
        assertTrue(fullMs >= 40 * 2.25, "past 1 MiB the writes wait for the cache to drain: " + fullMs + " ms");
        d.close();
    }

    @Test
    void cachedWritesArrivingOutOfOrderAreHeldAndWrittenInOrder() {
        ThrottledBlockDevice.Model cached = ThrottledBlockDevice.Model.parse("latency=8ms,bandwidth=100M,rpm=6000,cache=32M");
        DiskArm arm = new DiskArm(cached, SIZE);
        long ms = 1_000_000L;
        assertEquals(-1, arm.placeAt(0, 4096, true, 8)[0], "held: the cache writes nothing out before its oldest is 5 ms old");
        assertEquals(-1, arm.placeAt(1 * ms, 4096, true, 0)[0]);
        assertEquals(-1, arm.placeAt(2 * ms, 4096, true, 16)[0]);
        arm.placeAt(DiskArm.DESTAGE_DELAY_NANOS, 4096, true);
        assertEquals(2, arm.counts()[0], "the oldest is 5 ms old: the cache writes out 0 and 8, in order");
        arm.placeAt(2 * ms + DiskArm.DESTAGE_DELAY_NANOS, 4096, true);
        assertEquals(3, arm.counts()[0], "then 16 when it is 5 ms old");
        assertEquals(0, arm.counts()[1], "written 0, 8, 16: one stream, the head never moved");

        DiskArm through = new DiskArm(DISK, SIZE);
        assertEquals(BLOCK_NANOS + BLOCK_NANOS, through.placeAt(0, 4096, false, 8)[0], "no cache: the arm takes the write at once");
        through.placeAt(1 * ms, 4096, false, 0);
        through.placeAt(2 * ms, 4096, false, 16);
        for (long now = 3 * ms; through.counts()[0] < 3; now += ms) {
            through.placeAt(now, 4096, false);
        }
        assertEquals(3, through.counts()[1], "8, then back to 0 (a seek), then on to 16 (past one block)");
    }

    @Test
    void aCachedWriteKeepsItsRoomUntilTheArmHasWrittenIt() {
        // a 64 KiB cache: sixteen 4 KiB writes 4 MiB apart fill it; written out one seek each
        DiskArm arm = new DiskArm(ThrottledBlockDevice.Model.parse("latency=8ms,bandwidth=100M,rpm=6000,cache=64K"), SIZE);
        long[] far = new long[16];
        for (int i = 0; i < far.length; i++) {
            far[i] = (i + 1) * (4L << 20 >> 9);
        }
        for (long in : arm.writeAt(0, 4096, far)) {
            assertEquals(0, in, "room for all sixteen: each completes as it arrives");
        }
        assertEquals(1, arm.counts()[0], "the cache is full, so nothing is held: the arm took the first, and its seek "
                + "keeps it busy beyond the lookahead");
        long firstWritten = arm.positioningNanos(0, far[0]) + BLOCK_NANOS;
        long[] late = arm.writeAt(1_000_000L, 4096, 8);
        assertEquals(firstWritten, late[0], "the first is placed but not written: the seventeenth enters the cache when it is");
    }

    @Test
    void aFlushWritesWhatTheCacheHeldAndTheArmDoesNothingElseUntilItCompletes() {
        DiskArm arm = new DiskArm(ThrottledBlockDevice.Model.parse("latency=8ms,bandwidth=100M,rpm=6000,cache=32M,flush=2ms"), SIZE);
        arm.writeAt(0, 4096, SECTORS / 2, SECTORS / 4);
        long flushed = arm.flush(0);
        long written = arm.positioningNanos(0, SECTORS / 4) + BLOCK_NANOS + arm.positioningNanos(SECTORS / 4 + 8, SECTORS / 2) + BLOCK_NANOS;
        assertEquals(written + 2_000_000L, flushed, 1, "both written, in order, then the flush latency");
        long[] during = arm.writeAt(1_000_000L, 4096, 64);
        assertEquals(1_000_000L, during[0], "a write during the flush enters the cache, which has room");
        assertEquals(2, arm.counts()[0], "and the flush does not wait for it");
        long readAt = flushed - DiskArm.LOOKAHEAD_NANOS; // during the flush, with the arm free within the lookahead
        assertEquals(flushed + arm.positioningNanos(SECTORS / 2 + 8, 8) + BLOCK_NANOS, arm.placeAt(readAt, 4096, false, 8)[0],
                "a read during the flush starts when it has completed");
    }

    @Test
    void aFlushWritesOutHeldWritesAtOnce() {
        DiskArm arm = new DiskArm(ThrottledBlockDevice.Model.parse("latency=8ms,bandwidth=100M,rpm=6000,cache=32M"), SIZE);
        arm.placeAt(0, 4096, true, 8, 0);
        long done = arm.flush(0);
        assertEquals(BLOCK_NANOS + BLOCK_NANOS, done, "0 then 8, from an idle arm at the flush");
        assertEquals(2, arm.counts()[0]);
    }
}
