package dev.dmwc.writecache.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.daxlib.FaultMode;
import dev.dmwc.daxlib.ProtectionKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run leaves nothing mapped. Session 22's screen ran thousands of pmem scripts in one JVM; each
 * {@code create} or {@code reload} left its permanent mapping of the cache file in place (Chronicle
 * Bytes kept a reference to it), and since every run replaces its output files, the deleted files'
 * blocks stayed allocated until the disk was full.
 */
class ScriptRunnerResourcesTest {
    private static List<String> mappingsOf(Path dir) throws Exception {
        String d = dir.toAbsolutePath().toString();
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains(d)).toList();
    }

    /** A dump across or from a device's end: wcio's short read, as the oracle prints it (kernel mutant 558). */
    @Test
    void aDumpPastTheEndIsAShortReadOfWhatFits(@TempDir Path out) throws Exception {
        Path script = out.resolve("dump.wcs");
        Files.writeString(script, "origin 1M\ncache 1M\ntable s 4096 0\ncreate\ndump cache 2040 8\ndump cache 2048 8\n"
                + "dump origin 2040 16\nremove\n");
        Path run = out.resolve("run");
        new ScriptRunner(WcScript.parse(script, null), run, ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT).run();
        List<String> t = Files.readAllLines(run.resolve("transcript.txt"));
        assertEquals("error short-read 0", t.get(t.indexOf("> dump cache 2048 8") + 1), String.join("\n", t));
        assertEquals("error short-read 4096", t.get(t.indexOf("> dump origin 2040 16") + 1), String.join("\n", t));
        assertTrue(t.get(t.indexOf("> dump cache 2040 8") + 1).startsWith("dump cache 2040 8:"), String.join("\n", t));
    }

    @Test
    void aPmemRunLeavesNoMappingOfItsFiles(@TempDir Path out) throws Exception {
        // create, a reload with cleaner, remove and create again: three targets, three permanent mappings
        WcScript s = WcScript.parse(Path.of("..", "test-data", "kernel", "pmem-cleaner", "script.wcs"), null);
        for (int run = 1; run <= 3; run++) {
            new ScriptRunner(s, out, ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT).run();
            assertEquals(List.of(), mappingsOf(out), "after run " + run + " (the next run deletes these files)");
        }
    }
}
