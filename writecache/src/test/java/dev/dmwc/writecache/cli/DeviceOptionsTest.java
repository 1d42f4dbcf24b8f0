package dev.dmwc.writecache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** bench's copy baseline: the cache's size where it fits, capped, halved down to a floor where it does not. */
class DeviceOptionsTest {
    private static final long MIB = 1L << 20;

    @Test
    void theBaselineIsTheCachesSizeWhereItFits() {
        assertEquals(256 * MIB, DeviceOptions.baselineSize(10_000 * MIB, 1280 * MIB, 256 * MIB));
    }

    @Test
    void aCachePastOneGibGetsAOneGibBaseline() {
        assertEquals(1024 * MIB, DeviceOptions.baselineSize(1L << 40, 0, 100L << 30));
    }

    /** The oracle's VM: a 250 MiB device-dax, the origin on a given file, 225.5 MiB free in /tmp. */
    @Test
    void aBaselineThatDoesNotFitIsHalvedUntilItDoes() {
        assertEquals(125 * MIB, DeviceOptions.baselineSize((long) (225.5 * MIB), 0, 250 * MIB));
        assertEquals(128 * MIB, DeviceOptions.baselineSize(200 * MIB, 64 * MIB, 1024 * MIB));
    }

    /** At the floor it stops shrinking: checkSpace then refuses the run, naming the sizes. */
    @Test
    void theBaselineStopsAtItsFloor() {
        assertEquals(DeviceOptions.BASELINE_MIN, DeviceOptions.baselineSize(10 * MIB, 0, 256 * MIB));
    }
}
