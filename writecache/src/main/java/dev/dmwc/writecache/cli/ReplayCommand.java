package dev.dmwc.writecache.cli;

import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.DeviceFiles;
import dev.dmwc.writecache.block.ThrottledBlockDevice;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.replay.ReplayReport;
import dev.dmwc.writecache.replay.ReplaySweep;
import dev.dmwc.writecache.replay.Replayer;
import dev.dmwc.writecache.trace.TraceFormatException;
import dev.dmwc.writecache.trace.Traces;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "replay", header = "Replay a block trace through the cache, optionally verified.", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Replay a block trace through a write-back cache on sparse files (default under /dev/shm) and report "
                + "what the cache did. Formats are detected (gzip too) or named with --format. Exit 0; 1 when --verify "
                + "found a mismatch or a request failed; 2 for bad arguments or a malformed trace.",
                "",
                "A sweep: lists in --mode, --cache-size, --block-size, or --table given more than once, replay the trace "
                        + "once per combination, each on fresh devices, and print one row a run (hit ratios, stalls on a full "
                        + "cache, write-back, rate; every report in --json, every run's plots in --html). Exit 1 if any run found a mismatch, else 2 if the "
                        + "target or the replay refused any run (its row says why)."})
final class ReplayCommand implements Callable<Integer> {
    @Parameters(index = "0..*", arity = "1..*", paramLabel = "TRACE",
            description = "The trace file (blktrace per-CPU files: any one of them, or the directory blktrace -D wrote them to; "
                    + "'-': standard input, copied to a temporary file first). "
                    + "Several are replayed as one trace, one after another, each one's times continuing from the end of the one before.")
    List<Path> traces;

    @Mixin
    TraceInput input;

    @Option(names = "--mode", paramLabel = "s|p", split = ",", defaultValue = "p",
            description = "Cache mode: s (ssd) or p (pmem); s,p sweeps both. Default: ${DEFAULT-VALUE}")
    List<String> modes;

    @Option(names = "--cache-size", paramLabel = "SIZE", split = ",", defaultValue = "256M",
            description = "Cache device size, or N%% of the trace's written footprint (its distinct 4 KiB pages written, "
                    + "the metadata added); a list (64M,256M,1G or 10%%,25%%,50%%) sweeps. Default: ${DEFAULT-VALUE}")
    List<String> cacheSizes;

    @Option(names = {"--block-size", "--bs"}, paramLabel = "N", split = ",", defaultValue = "4096",
            description = "Cache block size (512..4096); a list sweeps. Default: ${DEFAULT-VALUE}")
    List<Integer> blockSizes;

    @Option(names = "--table", paramLabel = "ARGS",
            description = "The writecache arguments without the devices, MODE BLOCK_SIZE NFEAT [FEATURE...], e.g. "
                    + "\"p 4096 2 high_watermark 60\" (default \"p 4096 0\"); or the features alone, e.g. \"high_watermark 60 "
                    + "writeback_jobs 64\", with --mode and --block-size. Given more than once, sweeps.")
    List<String> tables;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--origin-size", paramLabel = "SIZE", description = "Origin size (default: the trace's extent).")
    String originSize;

    @Option(names = "--timing", paramLabel = "afap|real|xN", defaultValue = "afap",
            description = "As fast as possible, at the trace's pace, or N times faster (x2, x0.5). Default: ${DEFAULT-VALUE}")
    String timing;

    @Option(names = "--verify", description = "Payloads encode (sector, version); check every read and, at the end, the whole device after writeback.")
    boolean verify;

    @Option(names = "--no-data", description = "Run the cache's state machine without payloads (traces of billions of requests).")
    boolean noData;

    @Option(names = "--unaligned", paramLabel = "rmw|widen|error", defaultValue = "rmw",
            description = "Requests not aligned to the block size: read-modify-write (as the page cache would), widen, or stop. Default: ${DEFAULT-VALUE}")
    String unaligned;

    @Option(names = "--beyond", paramLabel = "error|wrap|skip", defaultValue = "error",
            description = "Requests beyond the origin (with --origin-size): stop, wrap around, or skip (counted). Default: ${DEFAULT-VALUE}")
    String beyond;

    @Option(names = "--volume", paramLabel = "ID", description = "Replay this volume of a multi-volume trace (device, file or volume id).")
    String volume;

    @Option(names = "--skip-bad", paramLabel = "N", defaultValue = "0", description = "Tolerate up to N malformed lines (counted). Default: ${DEFAULT-VALUE}")
    long skipBad;

    @Option(names = "--limit", paramLabel = "N", description = "Replay only the first N requests.")
    Long limit;

    @Option(names = "--loops", paramLabel = "N", defaultValue = "1",
            description = "Replay the trace N times back to back (cache, device and model carry over; times continue). Default: ${DEFAULT-VALUE}")
    int loops;

    @Option(names = "--warmup", paramLabel = "N|N%",
            description = "Replay the first N requests (or N%% of them) as a warm-up, then send the target clear_stats and "
                    + "start the report over: hit ratios, counts, latencies, rate and write-back describe the warm cache. "
                    + "Verification covers everything.")
    String warmup;

    @Option(names = "--check", description = "Only validate the trace (every line), write nothing.")
    boolean check;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON to FILE ('-' = stdout instead of the table).")
    Path json;

    @Option(names = "--html", paramLabel = "FILE", description = "Also write a self-contained HTML report with plots over trace time.")
    Path html;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write one CSV row a run (a sweep's rows, or this "
            + "replay's): hit ratios, around, blocked, written back, rate, write p99, mismatches.")
    Path csv;

    @Option(names = "--protection", paramLabel = "pku|software|mprotect|none", description = "pmem: protection backend (default: the best available).")
    String protection;

    @Option(names = "--fault-mode", paramLabel = "strict|relaxed", defaultValue = "strict",
            description = "pmem: what a stray access to the dax range does: refused (strict) or granted and counted (relaxed). Default: ${DEFAULT-VALUE}")
    String faultMode;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Where the sparse device files go (default /dev/shm).")
    Path workDir;

    @Option(names = "--origin", paramLabel = "IMG",
            description = "Replay onto this origin file: an existing one at its size, a missing one made at the trace's extent "
                    + "(or --origin-size); or a block device. It stays, with what the replay wrote.")
    Path originFile;

    @Option(names = "--cache", paramLabel = "IMG",
            description = "Replay onto this cache file: an existing one is loaded as the kernel's resume loads it (e.g. an image "
                    + "Linux left), a missing one is made at --cache-size; or, in ssd mode, a block device; in pmem mode, a device-dax "
                    + "(/dev/daxN.M). It stays, committed, for dmwc dump/check or the kernel.")
    Path cacheFile;

    @Option(names = "--keep", description = "Keep the device files (their folder is printed).")
    boolean keep;

    @Option(names = "--prefault", description = "Fault every page of the new origin and cache in before the clock starts, so the "
            + "rate and latencies measure the cache, not the first touch of fresh memory (several µs a page on some VMs). "
            + "Takes the devices' full size in memory at once.")
    boolean prefault;

    @Option(names = "--no-space-check", description = "Replay even if the devices may not fit in the work directory "
            + "(by default such a replay is refused before it starts: the origin's pages the trace writes, plus the cache, "
            + "against the directory's free space).")
    boolean noSpaceCheck;

    @Option(names = {"--queue-depth", "--threads"}, paramLabel = "N", defaultValue = "1",
            description = {"Requests in flight at once, each on its own thread. A request waits for in-flight ones that overlap "
                + "its cache blocks; flushes and PREFLUSH writes wait for everything. Above 1 the engine runs on real "
                + "threads and its timers (autocommit, max_age, pause_writeback) follow the wall clock, not the "
                + "trace's. Default: ${DEFAULT-VALUE}"})
    int queueDepth;

    @Option(names = "--origin-model", paramLabel = "MODEL",
            description = "How fast the origin is, as in bench and serve (see dmwc bench --help): file (as fast as the file), "
                + "ssd, hdd, or latency=5ms,bandwidth=100M[,flush=2ms][,rpm=7200…][,depth=N]. Read misses, write-back and "
                + "flushes take its time, and write-back keeps its queue depth of I/Os in flight. A throttled model needs "
                + "--queue-depth above 1; with --timing real it shows whether the cache keeps up with the trace. "
                + "Default: ${DEFAULT-VALUE}")
    String originModel = "file";

    @Option(names = "--latency-every", paramLabel = "N",
            description = "Time one request in N, chosen at random, for the latency percentiles. Default: every request with "
                + "data; one in " + Replayer.Settings.NO_DATA_LATENCY_EVERY + " with --no-data, where reading the clock twice "
                + "would cost about as much as the request. With --queue-depth above 1 every request is timed.")
    Integer latencyEvery;

    @Option(names = {"-q", "--quiet"}, description = "No progress output.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        traces = TraceInput.resolveAll(traces);
        Main.checkOutput(json, "--json");
        Main.checkOutput(html, "--html");
        Main.checkOutput(csv, "--csv");
        Replayer.Settings s = new Replayer.Settings();
        for (String mode : modes) {
            if (!mode.matches("[sp]")) {
                throw new Main.UsageError("--mode must be s or p, not '" + mode + "'");
            }
        }
        List<ReplaySweep.CacheSize> cacheBytes = new ArrayList<>();
        for (String size : cacheSizes) {
            if (size.trim().endsWith("%")) {
                cacheBytes.add(ReplaySweep.CacheSize.share(footprintShare(size.trim())));
            } else {
                cacheBytes.add(ReplaySweep.CacheSize.bytes(Sizes.parse(size, "--cache-size")));
            }
        }
        for (int blockSize : blockSizes) {
            if (!dev.dmwc.writecache.target.TableParser.validBlockSize(blockSize)) {
                throw new Main.UsageError("--block-size must be a power of two from 512 to 4096, not " + blockSize);
            }
        }
        List<TableArgs> tableArgs = new ArrayList<>();
        List<List<String>> features = new ArrayList<>();
        List<String> given = TableArgs.given(spec.commandLine().getParseResult(), "--mode", "--block-size");
        for (String table : tables == null ? List.of("") : tables) {
            TableArgs t = TableArgs.parse(table, "--table");
            t.refuseWith("--table", given);
            tableArgs.add(t);
            features.add(t.features());
        }
        TableArgs first = tableArgs.get(0);
        s.mode = first.full() ? first.mode() : modes.get(0);
        s.cacheBytes = cacheBytes.get(0).bytes();
        s.cacheShare = cacheBytes.get(0).share();
        s.blockSize = first.full() ? first.blockSize() : blockSizes.get(0);
        s.features = features.get(0);
        if (!timing.equals("afap") && !timing.equals("real") && !timing.matches("x\\d+(\\.\\d+)?")) {
            throw new Main.UsageError("--timing must be afap, real or xN (e.g. x10), not '" + timing + "'");
        }
        if (timing.startsWith("x") && Double.parseDouble(timing.substring(1)) <= 0) {
            throw new Main.UsageError("--timing xN needs N > 0");
        }
        s.timing = timing;
        s.verify = verify;
        s.noData = noData;
        if (verify && noData) {
            throw new Main.UsageError("--verify needs payloads; it cannot be combined with --no-data");
        }
        if (!List.of("rmw", "widen", "error").contains(unaligned)) {
            throw new Main.UsageError("--unaligned must be rmw, widen or error, not '" + unaligned + "'");
        }
        s.unaligned = unaligned;
        if (!List.of("error", "wrap", "skip").contains(beyond)) {
            throw new Main.UsageError("--beyond must be error, wrap or skip, not '" + beyond + "'");
        }
        s.beyond = beyond;
        s.volume = volume;
        Checks.atLeast(spec, "--skip-bad", skipBad, 0);
        s.skipBad = skipBad;
        if (limit != null) {
            Checks.atLeast(spec, "--limit", limit, 1);
            s.limit = limit;
        }
        Checks.atLeast(spec, "--loops", loops, 1);
        s.loops = loops;
        s.checkOnly = check;
        if (warmup != null) {
            String w = warmup.trim();
            try {
                if (w.endsWith("%")) {
                    s.warmupShare = share(w);
                    if (!(s.warmupShare > 0 && s.warmupShare < 1)) {
                        throw new NumberFormatException();
                    }
                } else {
                    s.warmupRequests = Long.parseLong(w);
                    if (s.warmupRequests < 1) {
                        throw new NumberFormatException();
                    }
                }
            } catch (NumberFormatException e) {
                throw new Main.UsageError("--warmup must be a number of requests (100000) or a percentage of them above 0 "
                        + "and below 100 (10%), not '" + warmup + "'");
            }
        }
        s.keep = keep;
        for (Path f : new Path[] {originFile, cacheFile}) {
            if (f != null && (Files.isDirectory(f) || f.toAbsolutePath().getParent() == null || !Files.isDirectory(f.toAbsolutePath().getParent()))) {
                throw new Main.UsageError((f == originFile ? "--origin " : "--cache ") + f + ": not a file, nor one that can be made there");
            }
            ImageFiles.refuseCompressed(f, f == originFile ? "--origin" : "--cache");
        }
        if (originFile != null && cacheFile != null && originFile.toAbsolutePath().normalize().equals(cacheFile.toAbsolutePath().normalize())) {
            throw new Main.UsageError("--origin and --cache name the same file");
        }
        if (verify && (originFile != null && Files.exists(originFile)
                || cacheFile != null && Files.exists(cacheFile) && !unformatted(cacheFile, features))) {
            throw new Main.UsageError("--verify knows what a device holds only when the replay made it, or, for a cache, when it is "
                    + "not formatted yet (the target formats it): give --origin/--cache files that do not exist yet, or replay without "
                    + "--verify");
        }
        if (cacheFile != null && Files.exists(cacheFile) && spec.commandLine().getParseResult().hasMatchedOption("--cache-size")) {
            throw new Main.UsageError("--cache-size: the cache " + cacheFile + " exists, and its size is the cache's");
        }
        s.originFile = originFile;
        s.cacheFile = cacheFile;
        s.prefault = prefault;
        s.noSpaceCheck = noSpaceCheck;
        Checks.within(spec, "--queue-depth", queueDepth, 1, 1024);
        s.queueDepth = queueDepth;
        try {
            s.originModel = ThrottledBlockDevice.Model.parse(originModel);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--origin-model: " + e.getMessage());
        }
        if (s.originModelConflict() != null) {
            throw new Main.UsageError(s.originModelConflict());
        }
        if (latencyEvery != null) {
            Checks.within(spec, "--latency-every", latencyEvery, 1, 1_000_000);
            s.latencyEvery = latencyEvery;
        }
        if (originSize != null) {
            s.originBytes = Sizes.parse(originSize, "--origin-size");
        }
        if (workDir != null) {
            if (!Files.isDirectory(workDir)) {
                throw new Main.UsageError("--work-dir " + workDir + " is not a directory");
            }
            s.workDir = workDir;
        }
        if (protection != null) {
            try {
                s.backend = ProtectionKeys.Backend.parse(protection);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageError("--protection: " + e.getMessage());
            }
            if (s.backend.unavailableReason() != null) {
                throw new Main.UsageError("--protection " + s.backend.id() + " is unavailable here: " + s.backend.unavailableReason());
            }
        }
        try {
            s.faultMode = dev.dmwc.daxlib.FaultMode.parse(faultMode);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--fault-mode: " + e.getMessage());
        }
        Traces.Options topts;
        try {
            topts = new Traces.Options(input.format, input.events);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
        boolean jsonToStdout = json != null && json.toString().equals("-");
        if (!check) {
            // Ctrl-C or kill: the replay ends before its next request and reports what it replayed; a second one quits at once
            s.stop = new dev.dmwc.writecache.replay.StopRequest();
            Signals.stopGracefully("replay", "stopping before the next request, then reporting", s.stop::request);
        }
        List<Replayer.Settings> sweep;
        if (tableArgs.stream().noneMatch(TableArgs::full)) {
            sweep = ReplaySweep.combinations(s, modes, cacheBytes, blockSizes, features);
        } else { // tables that name their mode and block size: each with its own, in the order given
            sweep = new ArrayList<>();
            for (TableArgs t : tableArgs) {
                sweep.addAll(ReplaySweep.combinations(s, t.full() ? List.of(t.mode()) : modes, cacheBytes,
                        t.full() ? List.of(t.blockSize()) : blockSizes, List.of(t.features())));
            }
            Traces.Memo memo = new Traces.Memo(); // the trace read once for every run, as in one call
            sweep.forEach(run -> run.memo = memo);
        }
        if (sweep.size() > 1 && (originFile != null || cacheFile != null)) {
            throw new Main.UsageError("--origin/--cache: a sweep replays each combination on fresh devices; give one mode, "
                    + "cache size, block size and table with them");
        }
        if (sweep.size() > 1 && !check) {
            return sweep(sweep, topts, jsonToStdout);
        }
        ReplayReport rep;
        try {
            rep = new Replayer(traces, topts, s, ProgressBar.forStderr("replay", quiet || check)).run();
        } catch (TraceFormatException e) {
            throw new Main.UsageError("malformed trace: " + e.getMessage());
        } catch (Replayer.ReplayException e) {
            if (s.stop != null && s.stop.requested()) {
                System.err.println("dmwc: " + e.getMessage());
                return 130;
            }
            throw new Main.UsageError(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        } catch (DmError e) {
            throw new Main.UsageError("the table was refused: " + e.getMessage());
        }
        if (check) {
            System.out.printf("%s: %s, %d requests, extent %d bytes, %d bad lines skipped%s: OK%n", Replayer.name(traces), rep.scan.format,
                    rep.scan.records, rep.scan.extent, rep.scan.badLines,
                    rep.scan.volumes.size() > 1 ? ", volumes " + rep.scan.volumes.keySet() : "");
            return 0;
        }
        ReplaySweep one = ReplaySweep.single(traces, s, rep);
        writeReports(jsonToStdout, rep::toJson, rep::toHtml, one::toCsv, rep::toText);
        return rep.mismatches > 0 || rep.errors > 0 ? 1 : rep.stoppedBy != null ? 130 : 0;
    }

    /**
     * Whether every table of the run would find no superblock on {@code cache} (magic and version 0
     * at its start_sector) and format it anew: what it held before then no longer counts. A fresh
     * device-dax, or a zeroed file, is such a cache.
     */
    private static boolean unformatted(Path cache, List<List<String>> features) throws IOException {
        if (!Files.isRegularFile(cache) && !DeviceFiles.isBlockDevice(cache) && !dev.dmwc.daxlib.DeviceDax.is(cache)) {
            return true; // not a device at all: the replay refuses it with that reason, before it touches anything
        }
        for (List<String> f : features) {
            long startSector = 0;
            int i = f.indexOf("start_sector");
            if (i >= 0 && i + 1 < f.size()) {
                try {
                    startSector = Long.parseUnsignedLong(f.get(i + 1));
                } catch (NumberFormatException e) {
                    return false; // the table refuses it later, with its own words
                }
            }
            long at = startSector << 9;
            if (at < 0 || at + 8 > DeviceFiles.size(cache)) {
                return true; // no room for a superblock there: the replay or the table refuses its size
            }
            byte[] head = DeviceFiles.read(cache, at, 8);
            for (byte b : head) {
                if (b != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    private int sweep(List<Replayer.Settings> runs, Traces.Options topts, boolean jsonToStdout) throws Exception {
        ReplaySweep result;
        try {
            result = ReplaySweep.run(traces, topts, runs, (n, of) -> ProgressBar.forStderr("replay " + n + "/" + of, quiet));
        } catch (TraceFormatException e) {
            throw new Main.UsageError("malformed trace: " + e.getMessage());
        }
        if (result.runs().isEmpty() && result.stoppedBy != null) {
            System.err.println("dmwc: stopped by " + result.stoppedBy + " while reading the trace, before any run began");
            return 130;
        }
        String everywhere = result.sameRefusalEverywhere();
        if (everywhere != null) {
            throw new Main.UsageError(everywhere);
        }
        writeReports(jsonToStdout, result::toJson, result::toHtml, result::toCsv, result::toText);
        return result.failedRuns() > 0 ? 1 : result.refusedRuns() > 0 ? 2 : result.stoppedBy != null ? 130 : 0;
    }

    /** "25%" as 0.25; NaN when what comes before the '%' is not a number. */
    private static double share(String percent) {
        try {
            return Double.parseDouble(percent.substring(0, percent.length() - 1).trim()) / 100;
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** {@code --cache-size N%}: N % of the trace's written footprint, as a fraction; refused outside (0, 10000]. */
    static double footprintShare(String percent) {
        double share = share(percent);
        if (!(share > 0 && share <= 100)) {
            throw new Main.UsageError("--cache-size " + percent + ": a share of the trace's written footprint is a percentage above 0 "
                    + "and at most 10000, like 25%");
        }
        return share;
    }

    /** The report in every form asked for: --json (a file, or stdout instead of the text), --html, --csv, the text. */
    private void writeReports(boolean jsonToStdout, java.util.function.Supplier<String> asJson,
            java.util.function.Supplier<String> asHtml, java.util.function.Supplier<String> asCsv,
            java.util.function.Supplier<String> asText) throws java.io.IOException {
        if (json != null) {
            if (jsonToStdout) {
                System.out.print(asJson.get());
            } else {
                Files.writeString(json, asJson.get(), StandardCharsets.UTF_8);
            }
        }
        if (html != null) {
            Files.writeString(html, asHtml.get(), StandardCharsets.UTF_8);
        }
        if (csv != null) {
            Files.writeString(csv, asCsv.get(), StandardCharsets.UTF_8);
        }
        if (!jsonToStdout) {
            System.out.print(asText.get());
        }
    }
}
