package dev.dmwc.writecache.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Bounded stress in CI: {@code -Ddmwc.stress.seconds=N} for a deep run (default 5 per case);
 * {@code ./dmwc stress --seconds 600} does the same from the command line.
 */
class StressTest {
    static final double SECONDS = Double.parseDouble(System.getProperty("dmwc.stress.seconds", "5"));

    @ParameterizedTest(name = "mode {0}, table ''{1}''")
    @CsvSource({"s, pause_writeback 0", "s, ''", "p, ''", "p, autocommit_blocks 16 max_age 500"})
    void mixedIoWithWritebackSuspendReloadAndAStrayWriterMatchesTheModel(String mode, String table) throws Exception {
        Stress.Settings s = new Stress.Settings();
        s.mode = mode;
        s.table = table;
        s.seconds = SECONDS;
        s.stallSeconds = 20;
        Stress.Result r = new Stress(s).run();
        assertFalse(r.stalled, () -> "stalled:\n" + r.stallDump);
        assertEquals(0, r.mismatches, () -> String.join("\n", r.examples));
        assertTrue(r.writes > 1000 && r.reads > 1000, "did work: " + r.writes + " writes, " + r.reads + " reads");
        assertTrue(r.suspends + r.reloads > 0 && r.flushMessages > 0, "the controller ran");
        assertTrue(r.writebackBlocks > 0, "writeback ran");
        assertEquals(8192, r.finalBlocksVerified);
        if (mode.equals("p")) {
            assertTrue(r.strayAttempts > 0, "the stray writer ran");
            assertEquals(r.strayAttempts, r.strayRefused, "every stray store refused");
        }
    }
}
