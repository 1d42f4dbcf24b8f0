package dev.dmwc.writecache.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.MemoryBlockDevice;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The kernel's clock at HZ=250 and its timer wheel, as the target's timers see them. */
class JiffiesTest {
    @Test
    void millisecondsRoundUpToWholeJiffies() {
        assertEquals(0, Jiffies.fromMillis(0));
        assertEquals(1, Jiffies.fromMillis(1));
        assertEquals(1, Jiffies.fromMillis(4));
        assertEquals(2, Jiffies.fromMillis(5));
        assertEquals(250, Jiffies.fromMillis(1000));
        assertEquals(750, Jiffies.fromMillis(3000), "PAUSE_WRITEBACK is HZ * 3");
        assertEquals(2, Jiffies.at(11));
    }

    /**
     * A timer runs one granule after its expiry, rounded up to its wheel level's granularity:
     * one jiffy under 63 jiffies away, 8 under 504, 64 under 4,032.
     */
    @Test
    void aTimerRunsAtItsWheelBucket() {
        assertEquals(4, Jiffies.timerDelayMs(0, 0), "due now: the next tick");
        assertEquals(64, Jiffies.timerDelayMs(0, 15), "max_age 1000: 250 / 16 = 15 jiffies, run at the 16th");
        assertEquals(62, Jiffies.timerDelayMs(2, 15), "armed 2 ms into a jiffy: the same tick");
        assertEquals(252, Jiffies.timerDelayMs(0, 62), "the last distance of level 0");
        assertEquals(256, Jiffies.timerDelayMs(0, 63), "level 1: rounded up to 8 jiffies, plus 8");
        assertEquals(1024, Jiffies.timerDelayMs(0, 250), "the pause loop's sleep of HZ");
        assertEquals(1056, Jiffies.timerDelayMs(0, 256), "a multiple of the granule still goes one further");
        assertEquals(2048, Jiffies.timerDelayMs(0, 504), "level 2: 64 jiffies a granule");
    }

    /**
     * {@code max_age 1000} is 250 jiffies: the timer ticks every 64 ms (15 jiffies, run at the
     * 16th), and a block is written back at the first tick that finds it at least 250 − 15 = 235
     * jiffies old: 960 ms after it was written (on the oracle's ftrace the ticks come 64 ms apart;
     * in milliseconds they came every 62 ms and the block went at 992 ms).
     */
    @Test
    void maxAgeWritesABlockBackAtTheFirstTickThatFindsItOldEnough() throws Exception {
        VirtualScheduler sched = new VirtualScheduler();
        MemoryBlockDevice origin = new MemoryBlockDevice("origin", 8L << 20);
        WritecacheTarget t = WritecacheTarget.create(List.of("s", "origin", "cache", "4096", "4", "max_age", "1000",
                "pause_writeback", "0"), Map.of("origin", origin, "cache", new MemoryBlockDevice("cache", 1L << 20)), sched, null,
                m -> { });
        long blocks = t.engine().statusFields()[1];
        ByteBuffer b = ByteBuffer.allocateDirect(4096);
        assertNull(t.submit(Bio.Op.WRITE, 0, 0, 4096, b));
        assertNull(t.flush());
        sched.runPending();
        assertEquals(blocks - 1, t.engine().statusFields()[2]);
        sched.advance(959);
        assertEquals(blocks - 1, t.engine().statusFields()[2], "still cached just before the 15th tick (960 ms)");
        sched.advance(2);
        assertEquals(blocks, t.engine().statusFields()[2], "written back at the 15th tick");
        t.remove();
    }
}
