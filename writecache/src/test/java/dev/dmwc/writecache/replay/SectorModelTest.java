package dev.dmwc.writecache.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * The model's check: exact versions, and after a discard zeros or the sector's own payload of a
 * version it had (a writeback in flight may land after the discard), nothing else.
 */
class SectorModelTest {
    private static ByteBuffer payload(long sector, long version) {
        ByteBuffer b = ByteBuffer.allocate(512);
        SectorModel.fill(b, sector, 1, version);
        return b;
    }

    @Test
    void aDiscardedSectorReadsAsZerosOrAVersionItHad() {
        SectorModel m = new SectorModel(16);
        m.set(5, 1, 7);
        assertEquals(-1, m.check(payload(5, 7), 5, 0, 1));
        assertEquals(0, m.check(payload(5, 6), 5, 0, 1), "an older version before any discard");
        assertEquals(0, m.check(payload(5, 0), 5, 0, 1), "zeros before any discard");

        m.discard(0, 16);
        assertEquals(-1, m.check(payload(5, 0), 5, 0, 1), "zeros");
        assertEquals(-1, m.check(payload(5, 7), 5, 0, 1), "the version it had");
        assertEquals(-1, m.check(payload(5, 3), 5, 0, 1), "an older one");
        assertEquals(0, m.check(payload(5, 8), 5, 0, 1), "a version it never had");
        assertEquals(0, m.check(payload(6, 7), 5, 0, 1), "another sector's data");
        ByteBuffer torn = payload(5, 7);
        torn.putLong(256, 0).putLong(264, 0);
        assertEquals(0, m.check(torn, 5, 0, 1), "half zeros, half data");
        assertEquals(-1, m.check(payload(4, 0), 4, 0, 1), "never written, discarded: zeros");
        assertEquals(0, m.check(payload(4, 1), 4, 0, 1), "never written, discarded: no version");
        assertEquals("zeros or a version up to 7 (discarded)", m.expected(5));

        m.set(5, 1, 9); // written again: exact
        assertEquals(0, m.check(payload(5, 7), 5, 0, 1));
        assertEquals(-1, m.check(payload(5, 9), 5, 0, 1));
    }
}
