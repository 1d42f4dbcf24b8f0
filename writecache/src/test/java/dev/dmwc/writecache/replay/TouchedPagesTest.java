package dev.dmwc.writecache.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TouchedPagesTest {
    @Test
    void countsEachPageOnce() {
        TouchedPages p = new TouchedPages();
        p.add(0, 4096);
        p.add(0, 4096);
        p.add(1, 1);
        assertEquals(4096, p.bytes());
        p.add(4095, 2); // straddles pages 0 and 1
        assertEquals(8192, p.bytes());
        p.add(1L << 30, 0);
        assertEquals(8192, p.bytes());
    }

    @Test
    void pagesPastTheSetsReachAreCountedAsBytes() {
        TouchedPages p = new TouchedPages();
        long reach = (long) Integer.MAX_VALUE << 12; // the first page the set cannot hold
        p.add(reach - 4096, 3 * 4096); // one page in reach, two past it
        assertEquals(3 * 4096, p.bytes());
        p.add(10L << 40, 4096); // 10 TiB
        p.add(10L << 40, 4096); // counted again: an overestimate, never an under
        assertEquals(5 * 4096, p.bytes());
    }
}
