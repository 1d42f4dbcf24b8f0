package dev.dmwc.writecache.cli;

import dev.dmwc.daxlib.FaultMode;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.script.OpTiming;
import dev.dmwc.writecache.script.ScriptRunner;
import dev.dmwc.writecache.script.WcScript;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "script", header = "Run a WCSCRIPT scenario as the kernel oracle does.", mixinStandardHelpOptions = true,
        description = {"Run a WCSCRIPT (the language: test-data/oracle/WCSCRIPT.md) and write OUTDIR/transcript.txt, origin.img and cache.img "
                + "exactly as the kernel runner does. Runs in virtual time: sleeps and settles take no real time, and each op takes "
                + "as much virtual time as it does on the kernel oracle (--op-time)."})
final class ScriptCommand implements Callable<Integer> {
    @Option(names = "--mode", paramLabel = "s|p", description = "Run the script in this mode (devices and tables converted).")
    String mode;

    @Option(names = "--protection", paramLabel = "pku|software|mprotect|none",
            description = "Protection backend of the pmem device (default: the best available).")
    String protection;

    @Option(names = "--fault-mode", paramLabel = "strict|relaxed", defaultValue = "strict",
            description = "What a stray access does (default: ${DEFAULT-VALUE}).")
    String faultMode;

    @Option(names = "--log", description = "Also print the device-mapper messages (the kernel log) to stderr. Without it, "
            + "only dmwc's own notes are printed (where the run left the kernel's path, e.g. where Linux 6.1 would oops).")
    boolean showLog;

    @Option(names = "--images", arity = "2", paramLabel = "IMG",
            description = "Start from copies of ORIGIN_IMG and CACHE_IMG (raw or .gz, the sizes the script declares) "
                    + "instead of fresh zero devices, as runscript.sh --images does.")
    List<Path> images;

    @Option(names = "--shuffle-schedule", paramLabel = "SEED",
            description = "Run background work (writeback, commits, I/O completions) in an order drawn from SEED instead of "
                    + "the order the kernel was traced taking: any queue may run next, and any amount of work may run between "
                    + "the parts of a split write. Runs with different seeds that differ show that the script's result "
                    + "depends on timing (a scenario meant to be exact should not).")
    Long shuffleSeed;

    @Option(names = "--op-time", paramLabel = "oracle|MS", defaultValue = "oracle",
            description = "How much virtual time each op takes, so that the target's timers (max_age, autocommit_time, the "
                    + "pause_writeback sleep) fall between the same ops as on the kernel: 'oracle' (the default), the times "
                    + "measured on the kernel oracle under QEMU's TCG, per op (a dmsetup call reaches the kernel about 50 ms "
                    + "after it starts, a bio from wcio about 5 ms); or MS milliseconds before every op (0: ops take no time).")
    String opTime;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SCRIPT.wcs", description = "The script, e.g. test-data/kernel/ssd-crash/script.wcs.")
    Path script;

    @Parameters(index = "1", paramLabel = "OUTDIR", description = "Where the results go (made if missing); compare with test-data/oracle/compare.sh.")
    Path outDir;

    @Override
    public Integer call() throws Exception {
        if (mode != null && !mode.matches("[sp]")) {
            throw new Main.UsageError("--mode must be s or p, not '" + mode + "'");
        }
        OpTiming timing;
        try {
            timing = OpTiming.parse(opTime);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--op-time " + e.getMessage());
        }
        if (!Files.isRegularFile(script)) {
            throw new Main.UsageError("no such script: " + script);
        }
        for (Path p = outDir.toAbsolutePath(); p != null; p = p.getParent()) { // the nearest that exists must be a directory
            if (Files.exists(p)) {
                if (!Files.isDirectory(p)) {
                    throw new Main.UsageError("OUTDIR " + outDir + ": " + p + " is a file, not a directory");
                }
                break;
            }
        }
        ProtectionKeys.Backend backend;
        FaultMode fm;
        try {
            backend = protection == null ? ProtectionKeys.Backend.best() : ProtectionKeys.Backend.parse(protection);
            fm = FaultMode.parse(faultMode);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
        WcScript s;
        try {
            s = WcScript.parse(script, mode);
        } catch (WcScript.ScriptException e) {
            throw new Main.UsageError(e.getMessage());
        }
        try {
            Files.createDirectories(outDir); // after the script parsed: a bad script makes nothing
        } catch (java.io.IOException e) {
            throw new Main.UsageError("cannot make OUTDIR " + outDir + " (" + e.getMessage() + ")");
        }
        ScriptRunner r = new ScriptRunner(s, outDir, backend, fm).withTiming(timing);
        if (shuffleSeed != null) {
            r.withScheduler(dev.dmwc.writecache.engine.VirtualScheduler.shuffled(shuffleSeed));
        }
        if (images != null) {
            for (Path p : images) {
                if (!Files.isRegularFile(p)) {
                    throw new Main.UsageError("no such image: " + p);
                }
            }
            r.withImages(images.get(0), images.get(1));
        }
        r.run();
        java.io.PrintWriter err = spec.commandLine().getErr();
        // stray accesses to the dax range: shown when there were any (a run on the kernel's path prints nothing)
        if (r.protection() != null && (showLog || r.protection().strayAccesses() > 0)) {
            err.println("dmwc script: " + script.getFileName() + ": protection " + r.protection().describe());
        }
        if (showLog) {
            r.kernelLog().forEach(l -> err.println("device-mapper: writecache: " + l));
        } else {
            // dmwc's own notes in the log (where the run left the kernel's path, e.g. around a state
            // in which Linux 6.1 oopses) matter to anyone comparing with the kernel: always shown
            String note = dev.dmwc.writecache.engine.Writecache.NOTE;
            r.kernelLog().stream().filter(l -> l.startsWith(note))
                    .forEach(l -> err.println("dmwc script: " + script.getFileName() + ": " + l.substring(note.length())));
        }
        err.flush();
        return 0;
    }
}
