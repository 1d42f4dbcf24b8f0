package dev.dmwc.writecache.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.daxlib.FaultMode;
import dev.dmwc.daxlib.ProtectionKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * dmwc against the real kernel on random scripts (Maven profile {@code kernel}): each seed makes a
 * {@link RandomScript}, the oracle runs it on Linux 6.1 and dmwc runs it in-process, and the oracle's
 * {@code compare.sh} must find the transcripts and both device images identical. The fixed
 * scenarios of test-data/kernel pin down one behaviour each; these mix them (overwrites of
 * committed and uncommitted blocks, multi-block writes, FUA, discards, watermark writeback,
 * {@code cleaner}, suspend, reload, power cuts, bad requests) in orders nobody wrote by hand.
 *
 * <p>A script whose {@code settle} would give up (writeback stalled: the kernel does too, in half an
 * hour of polls under TCG), or on which dmwc sees the known writeback oops of Linux 6.1
 * (test-data/kernel-bugs/ssd-writeback-freed-entry), is replaced by the seed's next one before the
 * kernel sees it. Any other oops in the kernel's console fails the seed.
 *
 * <p>A default run takes {@value #DEFAULT_SCRIPTS} fixed seeds (three to four minutes of VM boots). For
 * a deep run: {@code mvn -B verify -Pkernel -pl daxlib,writecache -Dit.test=RandomScriptsKernelIT
 * -Ddmwc.kernelDiff.scripts=200 -Ddmwc.kernelDiff.seed=1000}. A failing seed's script, both
 * results and the comparison stay in {@code writecache/target/kernel-diff/seed-N}; run it again
 * with {@code ./dmwc script} and {@code ../shared/oracle/runscript.sh}.
 *
 * <p>Two knobs spend the kernel's time where dmwc is least sure. {@code
 * -Ddmwc.kernelDiff.profile=large-writes} draws {@link RandomScript#generateSplitting} scripts
 * (writes up to 64 blocks, which ssd mode splits). {@code -Ddmwc.kernelDiff.screen=D} sends a
 * script to the kernel only if one of {@code D} shuffled orders of background work changes its
 * result in dmwc ({@link ScheduleScreen}); the others are replaced before the kernel sees them.
 * Together about one ssd script in 16 passes, against one in 190 of the default profile; in pmem
 * mode fewer (2 in 150), so {@code -Ddmwc.kernelDiff.mode=s} (or {@code p}) fixes the mode, which
 * otherwise alternates with the seed.
 *
 * <p>A screened script may depend on timing on the kernel too (the oracle's CPU is emulated, its
 * devices are files on the host), so it runs on the kernel twice: when the two runs agree, dmwc
 * must match them; when they differ ({@code kernel-varies.txt} says how), dmwc must match one of
 * them.
 *
 * <p>{@code -Ddmwc.kernelDiff.profile=mutate} draws {@link ScenarioMutant}s instead: a stored
 * scenario of test-data/kernel changed in one to three ops. A mutant is not made timing-proof, so
 * when dmwc's result differs from the kernel's the kernel runs it again, and dmwc must match one
 * of the two. {@code dmwc.kernelDiff.mode} does not apply to mutants. Every run also takes
 * {@value #DEFAULT_MUTANTS} mutants beside its random scripts
 * ({@link #aMutantOfAStoredScenarioLeavesWhatTheKernelLeaves}).
 *
 * <p>Each combination of knobs has its own folders ({@code kernel-diff/screened-large-s-N} for
 * all three, {@code seed-mutant-N} for a mutant), since {@code seed-N} names another script.
 */
class RandomScriptsKernelIT {
    static final int DEFAULT_SCRIPTS = 6;
    static final int OPS = 60;
    /** How many scripts a screened seed tries before it gives up. */
    static final int SCREEN_ATTEMPTS = 2000;

    @BeforeAll
    static void setUpOracle() throws Exception {
        KernelImageKernelIT.setUpOracle();
    }

    static Stream<Long> seeds() {
        long first = Long.getLong("dmwc.kernelDiff.seed", 1);
        int n = Integer.getInteger("dmwc.kernelDiff.scripts", DEFAULT_SCRIPTS);
        return LongStream.range(first, first + n).boxed();
    }

    /** The first oops or BUG in the kernel's console logs of {@code kernel}, with what follows it; null if none. */
    static String oopsIn(Path kernel) throws java.io.IOException {
        try (Stream<Path> logs = Files.list(kernel)) {
            for (Path log : (Iterable<Path>) logs.filter(f -> f.getFileName().toString().startsWith("console-")).sorted()::iterator) {
                List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
                for (int i = 0; i < lines.size(); i++) {
                    String l = lines.get(i);
                    if (l.contains("kernel BUG at") || l.contains("Oops:") || l.contains("list_del corruption")
                            || l.contains("general protection fault") || l.contains("WARNING: CPU:")) {
                        return log + ":\n" + String.join("\n", lines.subList(i, Math.min(lines.size(), i + 12)));
                    }
                }
            }
        }
        return null;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void dmwcAndTheKernelLeaveTheSameTranscriptAndImages(long seed) throws Exception {
        compareWithTheKernel(seed, System.getProperty("dmwc.kernelDiff.profile", "default"));
    }

    /**
     * {@value #DEFAULT_MUTANTS} mutants of the stored scenarios ({@link ScenarioMutant}) in every
     * run, beside the random scripts; {@code -Ddmwc.kernelDiff.mutants=N} for another count (0:
     * none), from seed {@code -Ddmwc.kernelDiff.mutantSeed} ({@value #FIRST_MUTANT}).
     */
    @ParameterizedTest(name = "mutant {0}")
    @MethodSource("mutantSeeds")
    void aMutantOfAStoredScenarioLeavesWhatTheKernelLeaves(long seed) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(seed >= 0, "RandomScriptsKernelIT: no mutants, as asked "
                + "(-Ddmwc.kernelDiff.mutants=0)");
        compareWithTheKernel(seed, "mutate");
    }

    static final int DEFAULT_MUTANTS = 3;
    static final long FIRST_MUTANT = 101;

    static Stream<Long> mutantSeeds() {
        long first = Long.getLong("dmwc.kernelDiff.mutantSeed", FIRST_MUTANT);
        int n = Integer.getInteger("dmwc.kernelDiff.mutants", DEFAULT_MUTANTS);
        return n > 0 ? LongStream.range(first, first + n).boxed() : Stream.of(-1L); // JUnit 5.10 refuses no arguments
    }

    private void compareWithTheKernel(long seed, String profile) throws Exception {
        int draws = Integer.getInteger("dmwc.kernelDiff.screen", 0);
        if (!profile.matches("default|large-writes|mutate")) {
            throw new IllegalArgumentException("dmwc.kernelDiff.profile: default, large-writes or mutate, not " + profile);
        }
        boolean large = profile.equals("large-writes");
        boolean mutate = profile.equals("mutate");
        String forced = mutate ? null : System.getProperty("dmwc.kernelDiff.mode"); // a mutant keeps its scenario's mode
        if (forced != null && !forced.matches("[sp]")) {
            throw new IllegalArgumentException("dmwc.kernelDiff.mode: s or p, not " + forced);
        }
        // a fixed mode gives odd seeds other scripts than the alternating default: another folder
        String folder = (draws > 0 ? "screened-" : "seed-") + (large ? "large-" : "") + (mutate ? "mutant-" : "")
                + (forced != null ? forced + "-" : "") + seed;
        Path work = Path.of("target", "kernel-diff", folder).toAbsolutePath();
        Files.createDirectories(work);
        Path script = work.resolve("script.wcs");
        Path kernel = work.resolve("kernel");
        Path ours = work.resolve("dmwc");
        // dmwc runs first. A script on which writeback stalls makes `settle` give up after 1200
        // polls, on the kernel too, and under TCG those polls take half an hour; one that meets
        // the known writeback oops leaves nothing to compare after it. Either is replaced by the
        // seed's next script (its header says which attempt ran).
        // With screening, a script whose result no shuffled order changes is replaced too.
        int attempt = 0;
        int limit = draws > 0 ? SCREEN_ATTEMPTS : 10;
        while (true) {
            long drawn = seed + attempt * 1_000_002L;
            String mode = forced != null ? forced : (seed & 1) == 1 ? "p" : "s";
            List<String> ops = mutate ? ScenarioMutant.generate(drawn)
                    : large ? RandomScript.generateSplitting(drawn, mode, OPS) : RandomScript.generate(drawn, mode, OPS);
            ops.add(1, "# seed " + seed + ", attempt " + attempt);
            Files.write(script, ops);
            WcScript parsed = WcScript.parse(script, null);
            ScriptRunner r = new ScriptRunner(parsed, ours, ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT);
            r.run();
            boolean stalls = Files.readAllLines(ours.resolve("transcript.txt")).stream().anyMatch(l -> l.equals("error ETIMEDOUT"));
            // the known oops (kernel-bugs/ssd-writeback-freed-entry): the kernel's result would end there
            boolean oopses = r.kernelLog().stream().anyMatch(l -> l.contains("Linux 6.1 would BUG"));
            int differing = 0;
            if (!stalls && !oopses && draws > 0) {
                differing = ScheduleScreen.firstDifferingDraw(parsed, draws, work.resolve("screen"));
            }
            if (!stalls && !oopses && (draws == 0 || differing != 0)) {
                if (draws > 0) {
                    ops.add(2, "# schedule-sensitive: shuffled order " + differing + " changes the result in dmwc");
                    Files.write(script, ops);
                }
                break;
            }
            if (++attempt == limit) {
                throw new IllegalStateException("seed " + seed + ": none of " + limit + " scripts "
                        + (draws > 0 ? "is schedule-sensitive without stalling writeback or meeting the known oops" : "avoids stalling writeback and the known oops")
                        + "; the last is " + script);
            }
        }

        runOnKernel(seed, script, kernel);
        String diff = compare(kernel, ours);
        Files.writeString(work.resolve("compare.txt"), diff.isEmpty() ? "identical\n" : diff);
        if (draws == 0 && !mutate) {
            assertEquals("", diff, "seed " + seed + ": dmwc (right) differs from the kernel (left); script " + script + "\n" + diff);
            return;
        }
        if (mutate && diff.isEmpty()) {
            return;
        }
        // A script that the screen picked depends on timing in dmwc, and may on the kernel too (the
        // oracle's I/O completes in host time, its CPUs are emulated), as may a mutant that dmwc
        // does not match: the kernel runs it again, and when the two runs differ, dmwc's result
        // must be one of them.
        Path again = work.resolve("kernel-again");
        runOnKernel(seed, script, again);
        String kernels = compare(kernel, again);
        if (kernels.isEmpty()) {
            assertEquals("", diff, "seed " + seed + ": dmwc (right) differs from the kernel (left), which gave the same "
                    + "result twice; script " + script + "\n" + diff);
            return;
        }
        Files.writeString(work.resolve("kernel-varies.txt"), kernels);
        String diffAgain = compare(again, ours);
        System.err.println("RandomScriptsKernelIT: seed " + seed + ": the kernel's two runs differ (timing-dependent on the "
                + "kernel too, " + work.resolve("kernel-varies.txt") + "); dmwc matches "
                + (diff.isEmpty() ? "the first" : diffAgain.isEmpty() ? "the second" : "neither"));
        assertTrue(diff.isEmpty() || diffAgain.isEmpty(), "seed " + seed + ": the kernel gave two results, and dmwc "
                + "(right) matches neither; script " + script + "\n" + diff);
    }

    /** Run {@code script} on the oracle into {@code out}; fail on an oops, a runner failure or a bad exit. */
    private static void runOnKernel(long seed, Path script, Path out) throws Exception {
        runOnKernel("seed " + seed, script, out, 300);
    }

    /** {@link #runOnKernel(long, Path, Path)} for {@code what}, the VM given {@code timeoutSeconds}. */
    static void runOnKernel(String what, Path script, Path out, int timeoutSeconds) throws Exception {
        Process p = new ProcessBuilder("bash", KernelImageKernelIT.oracle.resolve("runscript.sh").toString(),
                "--timeout", Integer.toString(timeoutSeconds), script.toString(), out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.MINUTES)) {
            p.destroyForcibly();
        }
        String oops = oopsIn(out);
        if (oops != null) {
            throw new AssertionError(what + ": Linux 6.1 oopsed where dmwc saw no kernel bug; script " + script
                    + "\n" + oops);
        }
        assertEquals(0, p.exitValue(), "the oracle could not run " + script + ":\n" + log);
        List<String> kernelTranscript = Files.readAllLines(out.resolve("transcript.txt"));
        if (kernelTranscript.stream().anyMatch(l -> l.startsWith("!! runner"))) {
            throw new IllegalStateException("the oracle's runner failed, not a result: " + out.resolve("transcript.txt"));
        }
    }

    /** compare.sh's report of {@code a} against {@code b}; empty when they are identical. */
    static String compare(Path a, Path b) throws Exception {
        Process c = new ProcessBuilder("bash", KernelImageKernelIT.oracle.resolve("compare.sh").toString(),
                a.toString(), b.toString()).redirectErrorStream(true).start();
        String diff = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!c.waitFor(5, TimeUnit.MINUTES)) {
            c.destroyForcibly();
            throw new IllegalStateException("compare.sh " + a + " " + b + " did not finish");
        }
        return c.exitValue() == 0 ? "" : diff;
    }
}
