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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
     * Results that depend on the time the oracle's ops take, not on any race: the two kernel runs
     * of each agree, and dmwc gives their result in full (transcript and both images) with ops
     * that take the times measured on the oracle ({@link OpTiming#oracle()}, the default of
     * {@code script --op-time}). In each a {@code max_age} tick falls between two ops with no
     * {@code sleep} between them on the oracle: between a flush and a suspend, a flush and a
     * reload (kernel mutant 893), a flush and a message flush (mutant 3337). One op time for every
     * op matched either 893 (42 ms or more) or 3337 (41 ms or less), never both (session 31).
     */
    @ParameterizedTest
    @ValueSource(strings = {"ssd-suspend-right-after-flush", "ssd-reload-right-after-flush", "ssd-message-flush-right-after-flush"})
    void opsTakingTheOraclesTimesGiveTheKernelsResult(String scenario, @TempDir Path out) throws Exception {
        Path d = DIR.resolve(scenario);
        List<String> kernel = Files.readAllLines(d.resolve("transcript.txt"));
        assertEquals(kernel, Files.readAllLines(d.resolve("transcript-run2.txt")), "the two kernel runs");
        new ScriptRunner(WcScript.parse(d.resolve("script.wcs"), null), out, ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT).run();
        assertEquals(kernel, Files.readAllLines(out.resolve("transcript.txt")));
        KernelEquivalenceTest.assertSameImage(d.resolve("origin.img.gz"), out.resolve("origin.img"), "origin");
        KernelEquivalenceTest.assertSameImage(d.resolve("cache.img.gz"), out.resolve("cache.img"), "cache");
    }

    /** With ops that take no time, no {@code max_age} tick falls between the flush and the suspend. */
    @Test
    void withOpsThatTakeNoTimeTheSuspendFindsNoWorkAsleep(@TempDir Path out) throws Exception {
        Path d = DIR.resolve("ssd-suspend-right-after-flush");
        new ScriptRunner(WcScript.parse(d.resolve("script.wcs"), null), out, ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT)
                .withTiming(OpTiming.uniform(0)).run();
        List<String> t = Files.readAllLines(out.resolve("transcript.txt"));
        String afterSuspend = t.get(t.indexOf("> suspend") + 2);
        assertEquals("status 0 254 248 0 0 0 6 0 0 0 6 0 1 0", afterSuspend, String.join("\n", t));
    }
}
