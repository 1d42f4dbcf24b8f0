package dev.dmwc.writecache.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.MemoryBlockDevice;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A writeback work asleep in the {@code pause_writeback} loop, on the threads {@code serve} runs
 * (the virtual scheduler's side is the kernel scenario test-data/kernel/ssd-cleaner-while-paused):
 * queuing it again only marks it, and {@code message flush} waits for its sleep to end.
 */
class PauseWritebackThreadedTest {
    private static final int BLOCKS_WRITTEN = 200;

    private ThreadedScheduler sched;
    private WritecacheTarget target;

    @BeforeEach
    void create() throws DmError {
        Map<String, Object> devs = new HashMap<>();
        devs.put("o", new MemoryBlockDevice("origin", 8 << 20));
        devs.put("c", new MemoryBlockDevice("cache", 1 << 20));
        sched = new ThreadedScheduler(e -> { });
        // pause_writeback is 3 s by default: the work sleeps a second at a time
        target = WritecacheTarget.create(List.of("s", "o", "c", "4096", "2", "autocommit_time", "3600000"), devs, sched,
                null, m -> { });
        // the origin's copy of an empty flush starts the pause (test-data/kernel/ssd-pause-after-flush)
        assertNull(target.flush());
        assertNull(target.submit(Bio.Op.WRITE, 0, 0, BLOCKS_WRITTEN * 4096, ByteBuffer.allocateDirect(BLOCKS_WRITTEN * 4096)));
    }

    @AfterEach
    void remove() {
        target.remove();
        sched.shutdown();
    }

    private long free() {
        return Long.parseLong(target.status().split(" ")[2]);
    }

    private long total() {
        return Long.parseLong(target.status().split(" ")[1]);
    }

    @Test
    void messageFlushWaitsForTheSleepingWorkAndReturnsWithEverythingWrittenBack() throws Exception {
        assertTrue(free() < total() / 2, "the write crossed the high watermark: " + target.status());
        Thread.sleep(200); // the queued work has looked at the pause and gone to sleep
        long t0 = System.nanoTime();
        target.message(new String[] {"flush"});
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(total(), free(), "message flush returned with blocks still cached (" + tookMs + " ms): " + target.status());
        assertNull(target.engine().checkInvariants());
    }

    @Test
    void messageCleanerDuringTheSleepWritesBackWhenTheSleepEnds() throws Exception {
        long wrote = System.nanoTime();
        Thread.sleep(200);
        target.message(new String[] {"cleaner"});
        Thread.sleep(300); // a work run at once would have written back by now
        long freeNow = free();
        long afterMs = (System.nanoTime() - wrote) / 1_000_000;
        if (afterMs < 800) {
            // the work sleeps a full second from the write: nothing cuts that short
            assertTrue(freeNow < total() / 2, "written back before the sleep ended (" + afterMs + " ms): " + target.status());
        } else {
            System.err.println("PauseWritebackThreadedTest: the machine took " + afterMs
                    + " ms to get here, too close to the end of the sleep to look at it");
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (free() != total() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(total(), free(), "cleaner never wrote back: " + target.status());
    }
}
