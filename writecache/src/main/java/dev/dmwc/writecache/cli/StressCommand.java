package dev.dmwc.writecache.cli;

import dev.dmwc.writecache.crash.Stress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "stress", header = "Threads of mixed I/O, writeback, suspend/reload and a stray writer, checked.", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Many threads of mixed I/O (writes, FUA, reads checked against a model, discards, flushes) on one "
                + "target running on real threads, with concurrent writeback, autocommit, flush messages, "
                + "suspend/resume and table reloads; in pmem mode a stray-writer thread stores into the DAX range "
                + "without access and must be refused every time. A watchdog fails the run (with every thread's stack) "
                + "if I/O stalls. Exit 0: no mismatch, no stall, every stray store refused; 1 otherwise; 130: stopped by Ctrl-C or kill "
                + "(the threads stop, and what ran is checked and reported; a second one quits at once)."})
final class StressCommand implements Callable<Integer> {
    @Option(names = "--mode", paramLabel = "s|p|both", defaultValue = "both", description = "Default: ${DEFAULT-VALUE}")
    String mode;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "10", description = "Per mode. Default: ${DEFAULT-VALUE}")
    double seconds;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "4", description = "I/O threads. Default: ${DEFAULT-VALUE}")
    int threads;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--cache-size", paramLabel = "SIZE", defaultValue = "2M", description = "Small, so writeback never stops. Default: ${DEFAULT-VALUE}")
    String cacheSize;

    @Option(names = "--origin-size", paramLabel = "SIZE", defaultValue = "32M", description = "Default: ${DEFAULT-VALUE}")
    String originSize;

    @Option(names = "--table", paramLabel = "ARGS", defaultValue = "",
            description = "Table features, e.g. 'autocommit_time 50 max_age 2000'; or MODE BLOCK_SIZE NFEAT [FEATURE...], e.g. "
                    + "'p 4096 2 autocommit_time 50' (that mode only). In ssd mode the default pause_writeback (3 s) keeps "
                    + "the busy writeback work asleep, and each flush message and suspend waits out that sleep (up to a "
                    + "second, as in the kernel): 'pause_writeback 0' cycles suspends and reloads many times faster.")
    String table;

    @Option(names = "--stall-seconds", paramLabel = "S", defaultValue = "30", description = "Watchdog: no I/O for this long is a stall. Default: ${DEFAULT-VALUE}")
    double stallSeconds;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Where the scratch files go (default the temporary directory, java.io.tmpdir; only pmem mode makes one); removed at exit, also on SIGINT or SIGTERM.")
    Path workDir;

    @picocli.CommandLine.Mixin
    JsonOutput json;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
    boolean quiet;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        json.check();
        if (!mode.matches("s|p|both")) {
            throw new Main.UsageError("--mode must be s, p or both, not '" + mode + "'");
        }
        Checks.atLeast(spec, "--threads", threads, 1);
        Checks.positive(spec, "--seconds", seconds);
        Checks.positive(spec, "--stall-seconds", stallSeconds);
        if (workDir != null && !Files.isDirectory(workDir)) {
            throw new Main.UsageError("--work-dir " + workDir + " is not a directory");
        }
        TableArgs t = TableArgs.parse(table, "--table");
        t.refuseWith("--table", TableArgs.given(spec.commandLine().getParseResult(), "--mode"));
        Map<String, Object> all = new LinkedHashMap<>();
        boolean ok = true;
        // Ctrl-C or kill: the run in progress ends, is checked and reported; a second one quits at once
        java.util.concurrent.atomic.AtomicReference<Stress> running = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<String> stoppedBy = Signals.stopGracefully("stress",
                "stopping the threads, then checking and reporting", () -> java.util.Optional.ofNullable(running.get()).ifPresent(Stress::stop));
        for (String m : t.full() ? new String[] {t.mode()} : mode.equals("both") ? new String[] {"s", "p"} : new String[] {mode}) {
            Stress.Settings s = new Stress.Settings();
            s.mode = m;
            s.seconds = seconds;
            s.threads = threads;
            s.seed = seed;
            s.cacheBytes = Sizes.parse(cacheSize, "--cache-size");
            s.originBytes = Sizes.parse(originSize, "--origin-size");
            s.table = String.join(" ", t.features());
            if (t.full()) {
                s.blockSize = t.blockSize();
            }
            s.stallSeconds = stallSeconds;
            if (workDir != null) {
                s.workDir = workDir;
            }
            if (stoppedBy.get() != null) {
                break;
            }
            Stress.Result r;
            Stress stress = new Stress(s);
            ProgressBar bar = ProgressBar.forStderr("stress " + (m.equals("p") ? "pmem" : "ssd") + " seconds", quiet || json.only());
            if (bar != null) {
                stress.elapsed = e -> bar.update((long) e, (long) Math.ceil(seconds), e);
            }
            running.set(stress);
            try {
                r = stress.run();
            } catch (dev.dmwc.writecache.engine.DmError e) {
                throw new Main.UsageError("the table was refused: " + e.getMessage());
            } finally {
                running.set(null);
                if (bar != null) {
                    bar.done();
                }
            }
            ok &= r.ok();
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("seconds", r.seconds);
            j.put("writes", r.writes);
            j.put("fua_writes", r.fuaWrites);
            j.put("reads_verified", r.reads);
            j.put("discards", r.discards);
            j.put("flushes", r.flushes);
            j.put("flush_messages", r.flushMessages);
            j.put("suspend_resumes", r.suspends);
            j.put("reloads", r.reloads);
            j.put("invariant_checks", r.invariantChecks);
            j.put("writeback_blocks", r.writebackBlocks);
            j.put("final_blocks_verified", r.finalBlocksVerified);
            j.put("stray_attempts", r.strayAttempts);
            j.put("stray_refused", r.strayRefused);
            j.put("older_versions_after_discard", r.olderAfterDiscard);
            j.put("mismatches", r.mismatches);
            j.put("stalled", r.stalled);
            j.put("examples", r.examples);
            if (r.stopped) {
                j.put("stopped_by", stoppedBy.get());
            }
            all.put(m.equals("p") ? "pmem" : "ssd", j);
            if (!json.only()) {
                System.out.printf(Locale.ROOT, "%s: %.1f s, %d threads: %d writes (%d FUA), %d reads verified, %d discards, %d flushes; "
                        + "%d flush messages, %d suspend/resume, %d reloads, %d invariant checks; %d blocks written back; "
                        + "%d blocks verified at the end; %d reads after a discard saw an older version (allowed)%s: %d mismatches%s%n",
                        m.equals("p") ? "pmem" : "ssd", r.seconds, threads,
                        r.writes, r.fuaWrites, r.reads, r.discards, r.flushes, r.flushMessages, r.suspends, r.reloads, r.invariantChecks,
                        r.writebackBlocks, r.finalBlocksVerified, r.olderAfterDiscard,
                        m.equals("p") ? String.format(Locale.ROOT, "; stray stores refused %d of %d", r.strayRefused, r.strayAttempts) : "",
                        r.mismatches, r.stalled ? "; STALLED" : "");
                for (String e : r.examples) {
                    System.out.println("  " + e);
                }
                if (r.stalled) {
                    System.out.println(r.stallDump);
                }
                if (r.stopped) {
                    System.out.printf(Locale.ROOT, "  stopped by %s after %.1f s of %.0f%n", stoppedBy.get(), r.seconds, seconds);
                }
            }
        }
        json.write(all);
        return !ok ? 1 : stoppedBy.get() != null ? 130 : 0;
    }
}
