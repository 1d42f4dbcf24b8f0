package dev.dmwc.writecache.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.daxlib.FaultMode;
import dev.dmwc.daxlib.ProtectionKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kernel scenarios whose exact result depends on timing (test-data/kernel-timing): dmwc must agree
 * with the kernel in every status field the two kernel runs agree on, give a plausible value in
 * the others, and leave the identical origin image.
 */
class KernelTimingScenarioTest {
    static final Path DIR = Path.of("..", "test-data", "kernel-timing");

    @Test
    void pmemFullCacheWaitsForWriteback(@TempDir Path out) throws Exception {
        Path d = DIR.resolve("pmem-full-wait");
        new ScriptRunner(WcScript.parse(d.resolve("script.wcs"), null), out, ProtectionKeys.Backend.SOFTWARE,
                FaultMode.STRICT).run();
        List<String> k1 = Files.readAllLines(d.resolve("transcript.txt"));
        List<String> k2 = Files.readAllLines(d.resolve("transcript-run2.txt"));
        List<String> dmwc = Files.readAllLines(out.resolve("transcript.txt"));
        assertEquals(k1.size(), dmwc.size(), "transcript length");
        List<Integer> varying = new ArrayList<>();
        for (int i = 0; i < k1.size(); i++) {
            if (!k1.get(i).startsWith("status ")) {
                assertEquals(k1.get(i), dmwc.get(i), "line " + (i + 1));
                continue;
            }
            String[] a = k1.get(i).split(" ");
            String[] b = k2.get(i).split(" ");
            String[] c = dmwc.get(i).split(" ");
            for (int f = 1; f < a.length; f++) {
                if (a[f].equals(b[f])) {
                    assertEquals(a[f], c[f], "line " + (i + 1) + " status field " + f + ": " + dmwc.get(i));
                } else {
                    varying.add(f);
                    // the only field the kernel runs disagree on: writes blocked on the freelist
                    assertEquals(12, f, "unexpected timing-dependent field " + f);
                    assertTrue(Long.parseLong(c[f]) >= 1, "the write must have waited at least once: " + dmwc.get(i));
                }
            }
        }
        assertTrue(varying.contains(12), "the two kernel runs were expected to differ in field 12");
        KernelEquivalenceTest.assertSameImage(d.resolve("origin.img.gz"), out.resolve("origin.img"), "origin");
    }

    /**
     * A result that depends on the time the oracle's ops take, not on any race: the two kernel runs
     * agree, and dmwc gives their result when ops take time ({@link ScriptRunner#DEFAULT_OP_TIME_MS},
     * {@code script --op-time}), not when they take none.
     */
    @Test
    void aSuspendRightAfterAFlushFindsTheWorkAsleepOnceOpsTakeTime(@TempDir Path out) throws Exception {
        Path d = DIR.resolve("ssd-suspend-right-after-flush");
        WcScript script = WcScript.parse(d.resolve("script.wcs"), null);
        List<String> kernel = Files.readAllLines(d.resolve("transcript.txt"));
        assertEquals(kernel, Files.readAllLines(d.resolve("transcript-run2.txt")), "the two kernel runs");

        Path timed = out.resolve("op-time-default");
        new ScriptRunner(script, timed, ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT).run();
        assertEquals(kernel, Files.readAllLines(timed.resolve("transcript.txt")));
        KernelEquivalenceTest.assertSameImage(d.resolve("origin.img.gz"), timed.resolve("origin.img"), "origin");
        KernelEquivalenceTest.assertSameImage(d.resolve("cache.img.gz"), timed.resolve("cache.img"), "cache");

        // with ops that take no time, no max_age tick falls between the flush and the suspend
        Path instant = out.resolve("op-time-0");
        new ScriptRunner(script, instant, ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT).withOpTime(0).run();
        List<String> t = Files.readAllLines(instant.resolve("transcript.txt"));
        String afterSuspend = t.get(t.indexOf("> suspend") + 2);
        assertEquals("status 0 254 248 0 0 0 6 0 0 0 6 0 1 0", afterSuspend, String.join("\n", t));
    }
}
