package dev.dmwc.writecache.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CI budget of crash exploration (≥ 5,000 crash states per mode, 0 violations), and proof that
 * it has teeth: with the commit order deliberately wrong (the superblock's seq_count made durable
 * before the entries it commits) it finds violations. Deep runs: {@code dmwc crashtest --seconds N}.
 */
class CrashExplorerTest {
    static final int WORKLOADS = Integer.getInteger("dmwc.crashtest.workloads", 10);

    @TempDir
    Path dir;

    @ParameterizedTest(name = "mode {0}")
    @ValueSource(strings = {"s", "p"})
    void noCrashStateBreaksTheGuarantee(String mode) throws Exception {
        CrashExplorer.Settings s = new CrashExplorer.Settings();
        s.mode = mode;
        s.workloads = WORKLOADS;
        s.workDir = dir;
        CrashExplorer.Result r = new CrashExplorer(s).run();
        assertEquals(0, r.violations, String.join("\n", r.examples));
        assertTrue(r.states >= 5000, "crash states explored: " + r.states);
        assertEquals(r.states, r.imagesChecked, "every crash image went through dmwc check's reader");
        assertTrue(r.barrierCuts > 0, "cuts inside operations, at their barriers");
        for (CrashExplorer.Kind k : new CrashExplorer.Kind[] {CrashExplorer.Kind.WRITE, CrashExplorer.Kind.FUA_WRITE,
            CrashExplorer.Kind.FLUSH, CrashExplorer.Kind.DISCARD, CrashExplorer.Kind.MESSAGE_FLUSH, CrashExplorer.Kind.RELOAD,
            CrashExplorer.Kind.ADVANCE}) {
            assertTrue(r.cutsAfter.getOrDefault(k, 0L) > 0, "power cut after " + k);
        }
        assertTrue(r.commitsSeen > 50, "commits happened: " + r.commitsSeen);
    }

    @Test
    void aWrongCommitOrderIsCaught() throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String f : System.getProperty("dmwc.test.jvmFlags", "").split(" ")) {
            if (!f.isBlank()) {
                cmd.add(f);
            }
        }
        cmd.add("-Ddmwc.test.mutant=superblock-first");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.dmwc.writecache.cli.Main");
        cmd.addAll(List.of("crashtest", "--mode", "both", "--workloads", "4"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "crashtest did not finish");
        assertNotEquals(0, p.exitValue(), out);
        assertTrue(out.contains("ssd:") && out.contains("VIOLATION mode s"), "ssd violations found:\n" + out);
        assertTrue(out.contains("VIOLATION mode p"), "pmem violations found:\n" + out);
    }
}
