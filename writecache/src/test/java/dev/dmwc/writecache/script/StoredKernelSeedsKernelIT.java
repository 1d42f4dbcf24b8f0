package dev.dmwc.writecache.script;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.daxlib.FaultMode;
import dev.dmwc.daxlib.ProtectionKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kernel result that {@link RandomScriptsKernelIT} (or {@link TraceScriptsKernelIT}) left in
 * {@code target/kernel-diff}, run again in dmwc as it is now (Maven profile {@code kernel}; no VM):
 * after a change to the engine or the scheduler, this checks it against all the kernel runs kept
 * so far in a minute or two, where the kernel itself would take half a minute a script. A seed
 * whose kernel ran twice and differed ({@code kernel-again}) passes when dmwc matches either run.
 * Results the oracle's runner did not finish (a line {@code !! runner} in the transcript) are left
 * out.
 *
 * <p>{@code mvn -B verify -Pkernel -pl daxlib,writecache -Dit.test=StoredKernelSeedsKernelIT}
 * (session 22: 1,144 results, 117 s). {@code -Ddmwc.kernelDiff.dir=DIR} takes the results from
 * another folder of the same layout (SEED/script.wcs, SEED/kernel/, optional SEED/kernel-again/;
 * a path relative to the writecache module), and {@code -Ddmwc.kernelDiff.opTime=oracle|MS} runs every
 * script as {@code ./dmwc script --op-time} does (default {@code oracle}, {@link OpTiming#oracle()}).
 * Without any stored result it is skipped and says so. The
 * kernel profile runs its ITs in name order, so in a whole {@code -Pkernel} run (CI) it follows
 * {@link RandomScriptsKernelIT} and runs again the seeds that one just left.
 */
class StoredKernelSeedsKernelIT {
    private static final String[] FILES = {"transcript.txt", "origin.img", "cache.img"};

    /** A kernel result folder that the runner finished, or null. */
    private static Path finished(Path dir) throws IOException {
        Path t = dir.resolve("transcript.txt");
        if (!Files.exists(t) || !Files.exists(dir.resolve("origin.img")) || !Files.exists(dir.resolve("cache.img"))) {
            return null;
        }
        try (Stream<String> lines = Files.lines(t)) {
            return lines.anyMatch(l -> l.startsWith("!! runner")) ? null : dir;
        }
    }

    private static boolean same(Path kernel, Path ours) throws IOException {
        for (String f : FILES) {
            if (!Arrays.equals(Files.readAllBytes(kernel.resolve(f)), Files.readAllBytes(ours.resolve(f)))) {
                return false;
            }
        }
        return true;
    }

    @Test
    void dmwcStillMatchesEveryStoredKernelResult(@TempDir Path work) throws Exception {
        Path root = Path.of(System.getProperty("dmwc.kernelDiff.dir", Path.of("target", "kernel-diff").toString()));
        OpTiming opTime = OpTiming.parse(System.getProperty("dmwc.kernelDiff.opTime", "oracle"));
        List<Path> seeds = new ArrayList<>();
        if (Files.isDirectory(root)) {
            try (Stream<Path> dirs = Files.list(root)) {
                for (Path d : (Iterable<Path>) dirs.sorted()::iterator) {
                    if (Files.exists(d.resolve("script.wcs")) && finished(d.resolve("kernel")) != null) {
                        seeds.add(d);
                    }
                }
            }
        }
        Assumptions.assumeFalse(seeds.isEmpty(), "StoredKernelSeedsKernelIT: SKIPPED, no kernel results under "
                + root.toAbsolutePath() + " to run again; RandomScriptsKernelIT leaves them there");
        List<String> differ = new ArrayList<>();
        for (Path d : seeds) {
            Path ours = work.resolve("dmwc");
            new ScriptRunner(WcScript.parse(d.resolve("script.wcs"), null), ours, ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT)
                    .withTiming(opTime).run();
            Path again = finished(d.resolve("kernel-again"));
            if (!same(d.resolve("kernel"), ours) && (again == null || !same(again, ours))) {
                differ.add(d.getFileName().toString());
            }
        }
        System.err.println("StoredKernelSeedsKernelIT: " + seeds.size() + " stored kernel results in " + root + ", op time "
                + opTime + ": " + differ.size() + " differ " + differ);
        assertTrue(differ.isEmpty(), differ.size() + " of " + seeds.size() + " stored kernel results differ from dmwc now: " + differ
                + " (compare one with ./dmwc script SCRIPT OUT and ../shared/oracle/compare.sh)");
    }
}
