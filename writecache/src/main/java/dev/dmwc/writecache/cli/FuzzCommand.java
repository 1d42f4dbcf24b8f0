package dev.dmwc.writecache.cli;

import dev.dmwc.writecache.block.ScratchFiles;
import dev.dmwc.writecache.crash.Fuzzer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "fuzz", header = "Hostile input: corrupted images, table lines, traces, NBD sessions.", mixinStandardHelpOptions = true,
        description = {"Feed generated hostile input to dmwc: corrupted cache images (through check and a table load), "
                + "random table lines, mangled traces, mangled NBD sessions against a live server (each must end with "
                + "the server closing within 5 s, no internal error, and a clean client still served; at most 500 "
                + "cases). Exit 0 when every case ended in a clear refusal or a correct load; 1 on a failure; 130 when Ctrl-C or kill "
                + "stopped it (after the case in progress, reporting what ran; a second one quits at once)."})
final class FuzzCommand implements Callable<Integer> {
    @Option(names = "--cases", paramLabel = "N", defaultValue = "1000", description = "Cases per target. Default: ${DEFAULT-VALUE}")
    int cases;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "First seed. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--trace", paramLabel = "FILE", description = "Also mangle this trace file.")
    Path trace;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Where the scratch files go (default /dev/shm); removed at exit, also on SIGINT or SIGTERM.")
    Path workDir;

    @picocli.CommandLine.Mixin
    JsonOutput json;

    @Option(names = {"-q", "--quiet"}, description = "No progress output.")
    boolean quiet;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        json.check();
        Checks.atLeast(spec, "--cases", cases, 1);
        if (workDir != null && !Files.isDirectory(workDir)) {
            throw new Main.UsageError("--work-dir " + workDir + " is not a directory");
        }
        if (trace != null) {
            trace = TraceInput.resolve(trace); // before the long part, not after it
        }
        Path dir = workDir != null ? workDir
                : ScratchFiles.defaultDir();
        Fuzzer f = new Fuzzer(dir);
        dev.dmwc.writecache.nbd.NbdFuzzer nf = new dev.dmwc.writecache.nbd.NbdFuzzer(dir);
        stoppedBy = Signals.stopGracefully("fuzz", "finishing the case in progress, then reporting", () -> {
            f.stopRequested = true;
            nf.stopRequested = true;
        });
        Map<String, Object> targets = new LinkedHashMap<>();
        long failures = 0;
        failures += report(targets, "ssd images", "ssd_images", () -> f.images("s", seed, cases), f, cases);
        failures += report(targets, "pmem images", "pmem_images", () -> f.images("p", seed, cases), f, cases);
        failures += report(targets, "table lines", "table_lines", () -> f.tables(seed, cases), f, cases);
        int sessions = Math.min(cases, 500);
        if (stoppedBy.get() == null) {
            ProgressBar bar = ProgressBar.forStderr("fuzz nbd sessions", quiet);
            nf.progress = progress(bar, sessions);
            Fuzzer.Result nbd = nf.run(seed, sessions);
            if (bar != null) {
                bar.done();
            }
            targets.put("nbd_sessions", map(nbd, "ended_as_prescribed"));
            if (!json.only()) {
                System.out.printf(Locale.ROOT, "%-14s %6d cases: %6d sessions ended by the server as the protocol prescribes, %d failures%n",
                        "nbd sessions", nbd.cases, nbd.refused, nbd.failures);
                nbd.examples.forEach(e -> System.out.println("  FAILURE " + e));
            }
            failures += nbd.failures;
        }
        if (trace != null) {
            Path t = trace;
            failures += report(targets, "trace " + trace.getFileName(), "trace", () -> f.traces(t, seed, cases), f, cases);
        }
        if (json.file != null) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seed", seed);
            m.put("cases", cases);
            m.put("trace", trace == null ? null : trace.toString());
            m.put("failures", failures);
            m.put("targets", targets);
            if (stoppedBy.get() != null) {
                m.put("stopped_by", stoppedBy.get());
            }
            json.write(m);
        }
        if (!json.only() && stoppedBy.get() != null) {
            System.out.println("stopped by " + stoppedBy.get() + ": the last target above ran in part, those after it not at all");
        }
        return failures != 0 ? 1 : stoppedBy.get() != null ? 130 : 0;
    }

    private interface Target {
        Fuzzer.Result run() throws Exception;
    }

    private static java.util.function.LongConsumer progress(ProgressBar bar, long total) {
        if (bar == null) {
            return n -> { };
        }
        long t0 = System.nanoTime();
        return n -> {
            if (n % 25 == 0 || n == total) {
                bar.update(n, total, (System.nanoTime() - t0) / 1e9);
            }
        };
    }

    /** The first SIGINT/SIGTERM's name once one came (the run then ends early, reporting what it did). */
    private java.util.concurrent.atomic.AtomicReference<String> stoppedBy = new java.util.concurrent.atomic.AtomicReference<>();

    private long report(Map<String, Object> targets, String what, String key, Target target, Fuzzer f, long total) throws Exception {
        if (stoppedBy.get() != null) {
            return 0; // stopped: the targets not begun are left out
        }
        ProgressBar bar = ProgressBar.forStderr("fuzz " + what, quiet);
        f.progress = progress(bar, total);
        Fuzzer.Result r = target.run();
        if (bar != null) {
            bar.done();
        }
        targets.put(key, map(r, "refused"));
        if (!json.only()) {
            System.out.printf(Locale.ROOT, "%-14s %6d cases: %6d refused with a clear error, %6d loaded, %d failures%n", what,
                    r.cases, r.refused, r.loaded, r.failures);
            r.examples.forEach(e -> System.out.println("  FAILURE " + e));
        }
        return r.failures;
    }

    private static Map<String, Object> map(Fuzzer.Result r, String refusedKey) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cases", r.cases);
        m.put(refusedKey, r.refused);
        if (refusedKey.equals("refused")) {
            m.put("loaded", r.loaded);
        }
        m.put("failures", r.failures);
        m.put("failure_examples", r.examples);
        return m;
    }
}
