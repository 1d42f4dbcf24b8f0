package dev.dmwc.writecache.cli;

import dev.dmwc.writecache.crash.CrashExplorer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "crashtest", header = "Cut the power everywhere in random workloads; check recovery.", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Cut the power after every operation of random workloads, in many ways, recover and check the mode's "
                + "guarantee (RELIABILITY.md). Exit 0: no violation; 1: violations (each with the seeds that reproduce "
                + "it); 130: stopped by Ctrl-C or kill, after reporting the workloads explored (a second one quits at once)."})
final class CrashtestCommand implements Callable<Integer> {
    @Option(names = "--mode", paramLabel = "s|p|both", defaultValue = "both", description = "Default: ${DEFAULT-VALUE}")
    String mode;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "First workload seed. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = {"--workloads", "--iterations"}, paramLabel = "N", defaultValue = "20", description = "Workloads per mode. Default: ${DEFAULT-VALUE}")
    int workloads;

    @Option(names = "--seconds", paramLabel = "S", description = "Run workloads for this long per mode instead of --workloads.")
    Double seconds;

    @Option(names = "--ops", paramLabel = "N", defaultValue = "60", description = "Operations per workload (a power cut after each). Default: ${DEFAULT-VALUE}")
    int ops;

    @Option(names = "--states", paramLabel = "N", defaultValue = "8", description = "Crash states per power cut. Default: ${DEFAULT-VALUE}")
    int states;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Where the scratch files go (default the temporary directory, java.io.tmpdir); removed at exit, also on SIGINT or SIGTERM.")
    Path workDir;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
    boolean quiet;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @picocli.CommandLine.Mixin
    JsonOutput json;

    @Override
    public Integer call() throws Exception {
        json.check();
        if (!mode.matches("s|p|both")) {
            throw new Main.UsageError("--mode must be s, p or both, not '" + mode + "'");
        }
        Checks.atLeast(spec, "--workloads", workloads, 1);
        Checks.atLeast(spec, "--ops", ops, 1);
        Checks.atLeast(spec, "--states", states, 1);
        if (workDir != null && !Files.isDirectory(workDir)) {
            throw new Main.UsageError("--work-dir " + workDir + " is not a directory");
        }
        if (seconds != null) {
            Checks.positive(spec, "--seconds", seconds);
        }
        Map<String, Object> all = new LinkedHashMap<>();
        long violations = 0;
        // Ctrl-C or kill: the workload in progress ends, and what was explored is reported; a second one quits at once
        java.util.concurrent.atomic.AtomicReference<CrashExplorer> running = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<String> stoppedBy = Signals.stopGracefully("crashtest",
                "finishing the workload in progress, then reporting", () -> java.util.Optional.ofNullable(running.get()).ifPresent(CrashExplorer::stop));
        for (String m : mode.equals("both") ? new String[] {"s", "p"} : new String[] {mode}) {
            if (stoppedBy.get() != null) {
                break;
            }
            CrashExplorer.Settings s = new CrashExplorer.Settings();
            s.mode = m;
            s.seed = seed;
            s.workloads = workloads;
            s.opsPerWorkload = ops;
            s.statesPerCut = states;
            if (workDir != null) {
                s.workDir = workDir;
            }
            if (seconds != null) {
                s.seconds = seconds;
            }
            CrashExplorer explorer = new CrashExplorer(s);
            ProgressBar bar = ProgressBar.forStderr("crashtest " + (m.equals("p") ? "pmem" : "ssd") + " power cuts", quiet || json.only());
            if (bar != null) {
                long t0 = System.nanoTime();
                long total = (long) workloads * ops;
                explorer.progress = cuts -> {
                    double t = (System.nanoTime() - t0) / 1e9;
                    if (seconds != null) { // time-bound: the bar is the time
                        bar.update((long) t, (long) Math.ceil(seconds), t);
                    } else if (cuts % 10 == 0 || cuts == total) {
                        bar.update(cuts, total, t);
                    }
                };
            }
            running.set(explorer);
            if (stoppedBy.get() != null) {
                explorer.stop();
            }
            CrashExplorer.Result r = explorer.run();
            running.set(null);
            if (bar != null) {
                bar.done();
            }
            violations += r.violations;
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("workloads", r.workloads);
            j.put("power_cuts", r.cuts);
            j.put("crash_states", r.states);
            j.put("violations", r.violations);
            j.put("states_per_second", r.statesPerSecond());
            j.put("seconds", r.seconds);
            j.put("commits_seen", r.commitsSeen);
            j.put("cuts_inside_operations", r.barrierCuts);
            j.put("two_identical_entries_recoveries", r.twinEntryErrors);
            j.put("images_checked", r.imagesChecked);
            Map<String, Object> after = new LinkedHashMap<>();
            r.cutsAfter.forEach((k, v) -> after.put(k.name().toLowerCase(Locale.ROOT), v));
            j.put("cuts_after", after);
            j.put(m.equals("p") ? "max_pending_words" : "max_pending_writes", m.equals("p") ? r.pendingWordsMax : r.pendingWritesMax);
            j.put("violation_examples", r.examples);
            if (r.stopped) {
                j.put("stopped_by", stoppedBy.get());
            }
            all.put(m.equals("p") ? "pmem" : "ssd", j);
            if (!json.only()) {
                System.out.printf(Locale.ROOT, "%s: %d workloads, %d power cuts, %d crash states in %.1f s (%.0f states/s), "
                        + "%d commits, %d cuts inside operations, %d recoveries with \"two identical entries\", "
                        + "%d crash images through dmwc check; cuts after %s; %s %d: %d violations%n", m.equals("p") ? "pmem" : "ssd",
                        r.workloads, r.cuts, r.states, r.seconds, r.statesPerSecond(), r.commitsSeen, r.barrierCuts, r.twinEntryErrors,
                        r.imagesChecked, after,
                        m.equals("p") ? "max unfenced words" : "max unflushed writes",
                        m.equals("p") ? r.pendingWordsMax : r.pendingWritesMax, r.violations);
                if (r.stopped) {
                    System.out.println("  stopped by " + stoppedBy.get() + " after " + r.workloads + " workloads; rerun from --seed "
                            + (seed + r.workloads) + " to go on");
                }
                r.examples.forEach(e -> System.out.println("  VIOLATION " + e));
            }
        }
        json.write(all);
        if (stoppedBy.get() != null && json.file != null && !json.only()) {
            System.err.println("dmwc crashtest: the results so far are in " + json.file);
        }
        return violations != 0 ? 1 : stoppedBy.get() != null ? 130 : 0;
    }
}
