package dev.dmwc.writecache.cli;

import dev.dmwc.writecache.crash.Fuzzer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "fuzz", header = "Hostile input: corrupted images, table lines, traces, NBD sessions.", mixinStandardHelpOptions = true,
        description = {"Feed generated hostile input to dmwc: corrupted cache images (through check and a table load), "
                + "random table lines, mangled traces, mangled NBD sessions against a live server (each must end with "
                + "the server closing within 5 s, no internal error, and a clean client still served; at most 500 "
                + "cases). Exit 0 when every case ended in a clear refusal or a correct load."})
final class FuzzCommand implements Callable<Integer> {
    @Option(names = "--cases", defaultValue = "1000", description = "Cases per target. Default: ${DEFAULT-VALUE}")
    int cases;

    @Option(names = "--seed", defaultValue = "1", description = "First seed. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--trace", paramLabel = "FILE", description = "Also mangle this trace file.")
    Path trace;

    @Override
    public Integer call() throws Exception {
        if (cases < 1) {
            throw new Main.UsageError("--cases must be at least 1");
        }
        Path dir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        Fuzzer f = new Fuzzer(dir);
        long failures = 0;
        failures += report("ssd images", f.images("s", seed, cases));
        failures += report("pmem images", f.images("p", seed, cases));
        failures += report("table lines", f.tables(seed, cases));
        Fuzzer.Result nbd = new dev.dmwc.writecache.nbd.NbdFuzzer(dir).run(seed, Math.min(cases, 500));
        System.out.printf(Locale.ROOT, "%-14s %6d cases: %6d sessions ended by the server as the protocol prescribes, %d failures%n",
                "nbd sessions", nbd.cases, nbd.refused, nbd.failures);
        nbd.examples.forEach(e -> System.out.println("  FAILURE " + e));
        failures += nbd.failures;
        if (trace != null) {
            trace = TraceInput.resolve(trace);
            failures += report("trace " + trace.getFileName(), f.traces(trace, seed, cases));
        }
        return failures == 0 ? 0 : 1;
    }

    private static long report(String what, Fuzzer.Result r) {
        System.out.printf(Locale.ROOT, "%-14s %6d cases: %6d refused with a clear error, %6d loaded, %d failures%n", what,
                r.cases, r.refused, r.loaded, r.failures);
        r.examples.forEach(e -> System.out.println("  FAILURE " + e));
        return r.failures;
    }
}
