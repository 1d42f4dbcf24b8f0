package dev.dmwc.writecache.script;

import dev.dmwc.daxlib.FaultMode;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.engine.VirtualScheduler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * Whether a script's result depends on the order of background work: the script runs in dmwc with
 * the order the kernel was traced taking, then with {@link VirtualScheduler#shuffled} orders, and
 * the transcripts and images are compared. Most random scripts come out the same whatever the
 * order (their {@code settle}s see to that); the few that do not are the ones on which dmwc's
 * model of the kernel's timing decides the result, so they are the ones worth the kernel's time
 * (RandomScriptsKernelIT with {@code -Ddmwc.kernelDiff.screen}). Kernel seed 1548
 * (test-data/kernel/ssd-split-write-second-writeback) was one in 1,596 random scripts.
 */
final class ScheduleScreen {
    private ScheduleScreen() {
    }

    /**
     * The first of the draws {@code 1..draws} whose result differs from the traced order's, or 0
     * if none does. Runs in {@code work} (made if missing, its results replaced).
     */
    static int firstDifferingDraw(WcScript script, int draws, Path work) throws IOException {
        Path base = work.resolve("traced-order");
        new ScriptRunner(script, base, ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT).run();
        byte[] expected = digest(base);
        for (int draw = 1; draw <= draws; draw++) {
            Path out = work.resolve("shuffled");
            new ScriptRunner(script, out, ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT)
                    .withScheduler(VirtualScheduler.shuffled(draw)).run();
            if (!Arrays.equals(expected, digest(out))) {
                return draw;
            }
        }
        return 0;
    }

    /** One digest of the transcript and both images: what compare.sh compares. */
    private static byte[] digest(Path dir) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 16];
        for (String name : new String[] {"transcript.txt", "origin.img", "cache.img"}) {
            Path f = dir.resolve(name);
            md.update(name.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            if (!Files.exists(f)) {
                continue;
            }
            try (InputStream in = Files.newInputStream(f)) {
                for (int n; (n = in.read(buf)) > 0;) {
                    md.update(buf, 0, n);
                }
            }
        }
        return md.digest();
    }
}
