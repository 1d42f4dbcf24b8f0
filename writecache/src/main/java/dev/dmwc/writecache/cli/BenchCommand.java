package dev.dmwc.writecache.cli;

import dev.dmwc.writecache.block.BlockDevice;
import dev.dmwc.writecache.block.MappedBlockDevice;
import dev.dmwc.writecache.block.ScratchFiles;
import dev.dmwc.writecache.bench.Bench;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench", header = "Measure absorb and write-back beside this machine's limits.", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"How fast the cache absorbs writes and how fast it writes back, beside this machine's limits measured "
                + "in the same run. Phases: absorb (random writes below the high watermark; baseline: raw copies into a "
                + "mapped file of the cache's size (at most 1 GiB, and halved, down to 64 MiB, until it fits beside the "
                + "scratch devices), durable copies into a DAX mapping in pmem mode; --rounds pairs of a "
                + "baseline round (the absorb round's bytes, or 50 ms of copies if more) and an absorb round, the "
                + "median ratio reported), drain (a "
                + "sequential fill written back by 'message flush'; baseline: the origin's sequential 1 MiB write "
                + "rate), overflow (twice the cache: write-back bound; its write-back rate beside the origin's sequential rate), "
                + "flush-heavy (a flush every N writes), mixed (random reads and writes), zipf (a zipf:1.2 hot set); the last "
                + "four each start from a clean cache (an untimed 'message flush'). Every page of both devices is faulted in "
                + "before the phases (--no-prefault to measure first touches). Bios go straight into the target from "
                + "--threads threads; the engine runs on real threads. The origin is throttled (--origin-model, default "
                + "ssd). The devices are scratch files unless given: bench overwrites them."},
        footer = {"", "Examples:", "  ./dmwc bench", "  ./dmwc bench --modes s --origin-model hdd --phases absorb,drain --json",
                "  ./dmwc bench --modes p --phases absorb --threads 1,2 --block-size 512,4096"})
final class BenchCommand implements Callable<Integer> {
    @Mixin
    DeviceOptions devices;

    @Option(names = "--modes", paramLabel = "s,p", defaultValue = "s,p", split = ",", description = "Modes to run. Default: ${DEFAULT-VALUE}")
    List<String> modes;

    @Option(names = {"--phases", "--workload"}, paramLabel = "LIST", split = ",", description = "Phases to run, in order (default: all: absorb, drain, overflow, flush-heavy, mixed, zipf).")
    List<String> phases;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "2", split = ",",
            description = "Submitting threads; a list runs each mode once per count (e.g. 1,2: how absorb scales). Default: ${DEFAULT-VALUE}")
    List<Integer> threadCounts;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "7", description = "absorb: measured rounds, each beside its own baseline round. Default: ${DEFAULT-VALUE}")
    int rounds;

    @Option(names = "--scale", paramLabel = "X", defaultValue = "1", description = "Multiply every phase's request count. Default: ${DEFAULT-VALUE}")
    double scale;

    @Option(names = {"--max-phase-seconds", "--seconds"}, paramLabel = "S", defaultValue = "20",
            description = "Stop a phase after this long (a phase is a set number of requests; this bounds it on a slow origin). Default: ${DEFAULT-VALUE}")
    double maxPhaseSeconds;

    @Option(names = "--flush-every", paramLabel = "N", defaultValue = "16", description = "flush-heavy: writes per flush. Default: ${DEFAULT-VALUE}")
    int flushEvery;

    @Option(names = "--read-percent", paramLabel = "P", defaultValue = "70", description = "mixed: share of reads. Default: ${DEFAULT-VALUE}")
    int readPercent;

    @Option(names = "--zipf", paramLabel = "S", defaultValue = "1.2", description = "zipf: the exponent. Default: ${DEFAULT-VALUE}")
    double zipf;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the phases' random offsets and choices. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--prefault", negatable = true,
            description = "Fault every page of the origin and the cache in, through the engine's own mappings, before the "
                    + "phases (untimed): the first touch of a sparse scratch file costs several us a page on some VMs, a "
                    + "cost of the emulation that no real device has, and that the baselines leave out too. "
                    + "--no-prefault measures it. Default: on for bench's own scratch files, off when --origin or --cache "
                    + "is given (faulting in a sparse file on disk would allocate all of it)")
    Boolean prefault;

    @Option(names = "--baseline-dir", paramLabel = "DIR",
            description = "Where the absorb baseline's scratch file goes (default: /dev/shm, else the temporary directory). "
                    + "With the cache on persistent memory, a directory on a DAX file system makes the pmem baseline a "
                    + "durable copy into persistent memory too, as the cache's data path is, not into DRAM.")
    Path baselineDir;

    @picocli.CommandLine.Mixin
    JsonOutput json;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
    boolean quiet;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        picocli.CommandLine.ParseResult given = spec.commandLine().getParseResult();
        json.check();
        devices.applyTable("--modes");
        if (TableArgs.parse(devices.table, "--table").full()) {
            modes = List.of(devices.mode); // the table's
        } else if (given.hasMatchedOption("--mode")) {
            // the devices' --mode (serve's) would be overwritten by --modes: take it as --modes, or refuse both
            if (given.hasMatchedOption("--modes")) {
                throw new Main.UsageError("bench: give --modes, not --mode with it");
            }
            modes = List.of(devices.mode);
        }
        for (String m : modes) {
            if (!m.equals("s") && !m.equals("p")) {
                throw new Main.UsageError("--modes: s and/or p, not '" + m + "'");
            }
        }
        if (baselineDir != null && !Files.isDirectory(baselineDir)) {
            throw new Main.UsageError("--baseline-dir: " + baselineDir + " is not a directory");
        }
        devices.baselineDir = baselineDir;
        devices.backend(modes.contains("p")); // refused now, not after the ssd runs
        devices.faultMode();
        for (int bs : devices.blockSizes) {
            // refused up front, not after the runs before it
            if (!dev.dmwc.writecache.target.TableParser.validBlockSize(bs)) {
                throw new Main.UsageError("--block-size " + bs + ": the table would be refused (Invalid block size: a power of two "
                        + "from 512 to 4096)");
            }
        }
        for (int t : threadCounts) {
            Checks.atLeast(spec, "--threads", t, 1);
        }
        Checks.atLeast(spec, "--rounds", rounds, 1);
        Checks.atLeast(spec, "--flush-every", flushEvery, 1);
        Checks.within(spec, "--read-percent", readPercent, 0, 100);
        Checks.positive(spec, "--scale", scale);
        Checks.positive(spec, "--max-phase-seconds", maxPhaseSeconds);
        Checks.positive(spec, "--zipf", zipf);
        Bench.Config cfg = new Bench.Config();
        cfg.scale = scale;
        cfg.absorbRounds = rounds;
        cfg.maxPhaseSeconds = maxPhaseSeconds;
        cfg.flushEvery = flushEvery;
        cfg.readPercent = readPercent;
        cfg.zipfExponent = zipf;
        cfg.seed = seed;
        if (phases != null) {
            for (String p : phases) {
                if (!Bench.PHASES.contains(p)) {
                    throw new Main.UsageError("--phases: unknown phase '" + p + "' (phases: " + String.join(", ", Bench.PHASES) + ")");
                }
            }
            cfg.phases = phases;
        }
        devices.defaultOriginModel = "ssd";
        if ((devices.origin != null || devices.cache != null) && modes.size() > 1) {
            throw new Main.UsageError("with --origin/--cache files, run one mode at a time (--modes s or --modes p)");
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("machine", Map.of("cpus", Runtime.getRuntime().availableProcessors(), "java", System.getProperty("java.version"),
                "os", System.getProperty("os.name") + " " + System.getProperty("os.version")));
        List<Object> runs = new ArrayList<>();
        StringBuilder table = new StringBuilder();
        List<Object> scaling = new ArrayList<>();
        // Ctrl-C or kill: the phase in progress ends and is reported with what it sent; nothing after it runs
        stoppedBy = Signals.stopGracefully("bench", "ending the phase in progress, then reporting what ran",
                sig -> java.util.Optional.ofNullable(running.get()).ifPresent(b -> b.stop(sig)));
        runs:
        for (String mode : modes) {
            for (int bs : devices.blockSizes) {
                devices.blockSize = bs;
                List<List<Bench.PhaseResult>> byCount = new ArrayList<>();
                for (int threads : threadCounts) {
                    if (stoppedBy.get() != null) {
                        break runs;
                    }
                    cfg.threads = threads;
                    try {
                        byCount.add(runOne(mode, threads, cfg, runs, table));
                    } catch (IOException e) {
                        if (e.getMessage() != null && e.getMessage().startsWith("no space left")) { // bench fills its devices
                            throw new Main.UsageError(e.getMessage() + ": give a smaller --cache-size or --origin-size");
                        }
                        throw e;
                    }
                }
                if (threadCounts.size() > 1 && stoppedBy.get() == null) {
                    table.append(scaling(mode, bs, byCount, scaling));
                }
            }
        }
        if (stoppedBy.get() != null) {
            table.append(String.format("%nstopped by %s: what ran is above; the phases and runs after it did not run%n", stoppedBy.get()));
        }
        report.put("runs", runs);
        report.put("stopped_by", stoppedBy.get());
        if (!scaling.isEmpty()) {
            report.put("scaling", scaling);
        }
        if (!json.only()) {
            System.out.print(table);
        }
        json.write(report);
        return stoppedBy.get() != null ? 130 : 0;
    }

    /** The bench running now, told of a Ctrl-C. */
    private final java.util.concurrent.atomic.AtomicReference<Bench> running = new java.util.concurrent.atomic.AtomicReference<>();
    /** The signal that stopped the run, once one came. */
    private java.util.concurrent.atomic.AtomicReference<String> stoppedBy = new java.util.concurrent.atomic.AtomicReference<>();

    private boolean willPrefault() {
        return prefault != null ? prefault : devices.origin == null && devices.cache == null;
    }

    /** One mode at one thread count: fresh devices and baselines, every phase; appends its JSON run and its table. */
    private List<Bench.PhaseResult> runOne(String mode, int threads, Bench.Config cfg, List<Object> runs, StringBuilder table) throws Exception {
        devices.mode = mode;
        devices.bench = true;
        DeviceOptions.Opened d = devices.open();
        // registered: a bench stopped by SIGINT or SIGTERM leaves nothing in /dev/shm
        Path scratch = ScratchFiles.createFile(devices.baselineDir(), "bench-copy", ".img");
        AutoCloseable scratchDevice = null;
        try {
            long cacheBytes = d.target().engine().nBlocks() * d.target().engine().blockSize();
            int bs = d.target().engine().blockSize();
            // the baseline's mapping: the cache's data area, or smaller where that is big or does not fit (DeviceOptions)
            long mapBytes = Math.max(Math.min(cacheBytes, devices.baselineBytes) / 4096 * 4096, 1 << 20);
            String mapSize = mapBytes < cacheBytes ? String.format(Locale.ROOT, " of %d MiB (the cache's %d MiB %s)", mapBytes >> 20,
                    cacheBytes >> 20, mapBytes < Math.min(cacheBytes, DeviceOptions.BASELINE_MAX) ? "did not fit beside the devices" : "is past the cap")
                    : "";
            double copy;
            String copyName;
            Bench.Baseline copyRound;
            long[] round = {0};
            if (mode.equals("p")) {
                // pmem: the engine's data path is a durable copy into the DAX mapping; so is the baseline
                try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(scratch.toFile(), "rw")) {
                    f.setLength(mapBytes); // dax: whole pages
                }
                dev.dmwc.daxlib.DaxDevice s = dev.dmwc.daxlib.DaxDevice.open(scratch, new dev.dmwc.daxlib.DaxDevice.Options()
                        .backend(devices.protection == null ? dev.dmwc.daxlib.ProtectionKeys.Backend.best()
                                : dev.dmwc.daxlib.ProtectionKeys.Backend.parse(devices.protection)));
                scratchDevice = s;
                copy = Bench.durableCopyBaseline(s, bs, threads, Math.max(cacheBytes / 2, 64L << 20));
                copyRound = bytes -> Bench.durableCopyRound(s, bs, threads, bytes, ++round[0]);
                copyName = "durable copy (memcpy_flushcache) into a DAX mapping" + mapSize;
            } else {
                BlockDevice s = MappedBlockDevice.createWithoutDiscards(scratch, mapBytes, false);
                scratchDevice = s;
                copy = Bench.copyBaseline(s, bs, threads, Math.max(cacheBytes / 2, 64L << 20));
                copyRound = bytes -> Bench.copyRound(s, bs, threads, bytes, ++round[0]);
                copyName = "raw copy into a mapped file" + mapSize;
            }
            double prefaultSeconds = Double.NaN;
            if (willPrefault()) {
                long p0 = System.nanoTime();
                d.target().engine().touchAllPages();
                prefaultSeconds = (System.nanoTime() - p0) / 1e9;
            }
            // the origin's sequential rate, measured on the (throttled) origin before the phases write it
            double seq = Bench.sequentialBaseline(d.origin(), Math.min(cacheBytes, 256L << 20));
            Bench b = new Bench(d.target(), cfg, quiet || json.only() ? null : ProgressBar.forStderr("bench " + mode + (devices.blockSizes.size() > 1 ? " " + devices.blockSize + "B" : "")
                    + (threadCounts.size() > 1 ? " x" + threads : ""), false));
            b.copyBaselineName = copyName;
            running.set(b);
            if (stoppedBy.get() != null) { // came while the devices and baselines were being made
                b.stop(stoppedBy.get());
            }
            List<Bench.PhaseResult> rs;
            try {
                rs = b.run(copyRound, seq);
            } finally {
                running.set(null);
            }
            Map<String, Object> run = new LinkedHashMap<>();
            run.put("mode", mode);
            run.put("table", "0 " + d.target().lengthSectors() + " writecache " + d.tableLine());
            run.put("origin", d.originDescription());
            run.put("cache", d.cacheDescription());
            run.put("writeback_io_depth", d.ioDepth());
            run.put("block_size", bs);
            run.put("threads", threads);
            run.put("baseline_copy_mb_per_s", copy);
            run.put("baseline_copy_mapping_bytes", mapBytes);
            run.put("baseline_copy_dir", devices.baselineDir().toString());
            run.put("baseline_origin_sequential_mb_per_s", seq);
            run.put("prefault_seconds", Double.isNaN(prefaultSeconds) ? null : prefaultSeconds);
            List<Object> ps = new ArrayList<>();
            for (Bench.PhaseResult r : rs) {
                ps.add(r.toMap());
            }
            run.put("phases", ps);
            run.put("status", d.target().status());
            if (d.protection() != null) {
                run.put("protection", d.protection().fields());
            }
            runs.add(run);
            table.append(table(mode, threads, d, rs, copy, seq, prefaultSeconds));
            return rs;
        } finally {
            if (scratchDevice != null) {
                scratchDevice.close();
            }
            ScratchFiles.delete(scratch);
            d.close(true);
        }
    }

    /**
     * With several thread counts: each phase's IOPS at every count beside the first count's, the
     * figure that says whether more submitters help (every write takes the one {@code wc_lock}).
     */
    private String scaling(String mode, int bs, List<List<Bench.PhaseResult>> byCount, List<Object> json) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%nmode %s, %d-byte blocks, IOPS by submitting threads (x the first count):%n",
                mode, bs));
        for (int i = 0; i < byCount.get(0).size(); i++) {
            String phase = byCount.get(0).get(i).phase;
            double first = byCount.get(0).get(i).iops;
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-12s", phase));
            List<Object> points = new ArrayList<>();
            for (int k = 0; k < byCount.size(); k++) {
                double iops = byCount.get(k).get(i).iops;
                double x = first > 0 ? iops / first : Double.NaN;
                line.append(String.format(Locale.ROOT, "  %d: %,.0f (%.2f x)", threadCounts.get(k), iops, x));
                Map<String, Object> pt = new LinkedHashMap<>();
                pt.put("threads", threadCounts.get(k));
                pt.put("iops", iops);
                pt.put("vs_first", x);
                points.add(pt);
            }
            sb.append(line).append(String.format("%n"));
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("mode", mode);
            entry.put("block_size", bs);
            entry.put("phase", phase);
            entry.put("by_threads", points);
            json.add(entry);
        }
        return sb.toString();
    }

    private String table(String mode, int threads, DeviceOptions.Opened d, List<Bench.PhaseResult> rs, double copy, double seq,
            double prefaultSeconds) {
        StringBuilder sb = new StringBuilder();
        // the copy figure the absorb ratio is taken against (its rounds' own copies) where absorb ran;
        // the one pass before the phases otherwise
        Bench.PhaseResult absorb = rs.stream().filter(r -> r.phase.equals("absorb") && !Double.isNaN(r.baselineMbPerSecond)).findFirst()
                .orElse(null);
        String copyFigure = absorb == null ? String.format(Locale.ROOT, "%.0f MB/s (one pass, in %s)", copy, devices.baselineDir())
                : String.format(Locale.ROOT, "%.0f MB/s (median of absorb's paired rounds, in %s; %.0f in one pass before the phases)",
                        absorb.baselineMbPerSecond, devices.baselineDir(), copy);
        sb.append(String.format(Locale.ROOT, "%nmode %s, %d-byte blocks, %d submitting thread%s: %s%n  origin %s%n  cache  %s%n  baselines (this run): %s %s, origin sequential %.0f MB/s%n",
                mode, devices.blockSize, threads, threads == 1 ? "" : "s", d.tableLine(), d.originDescription(), d.cacheDescription(), mode.equals("p") ? "durable copy" : "raw copy", copyFigure,
                seq));
        sb.append(Double.isNaN(prefaultSeconds) ? "  pages not faulted in beforehand (--no-prefault, or device files given): first touches are measured"
                : String.format(Locale.ROOT, "  every page of both devices faulted in beforehand (%.2f s, untimed)", prefaultSeconds));
        sb.append(String.format("; overflow, flush-heavy, mixed and zipf each start from a clean cache%n"));
        if (d.protection() != null) {
            sb.append("  protection ").append(d.protection().describe()).append(String.format("%n"));
        }
        sb.append(String.format(Locale.ROOT, "  %-12s %9s %9s %8s %9s %9s %9s %9s %6s %8s  %s%n", "phase", "ops", "IOPS", "MB/s",
                "p50 us", "p99 us", "p99.9 us", "wb MB/s", "run", "blocked", "vs baseline"));
        for (Bench.PhaseResult r : rs) {
            // "wb" where the ratio is of the write-back rate and not of the phase's own MB/s (drain's are one)
            String vs = r.baselineName == null ? "" : String.format(Locale.ROOT, "%s%.2f x %s",
                    r.ratioOf.equals("writeback_mb_per_s") && !r.phase.equals("drain") ? "wb " : "", r.ratio, r.baselineName);
            if (!Double.isNaN(r.flushP50us)) {
                vs = String.format(Locale.ROOT, "flush p50 %.0f us, p99 %.0f us", r.flushP50us, r.flushP99us);
            }
            if (!Double.isNaN(r.readHitRate)) {
                vs = String.format(Locale.ROOT, "read hits %.1f%%", 100 * r.readHitRate);
            }
            sb.append(String.format(Locale.ROOT, "  %-12s %9d %9.0f %8.1f %9.1f %9.1f %9.1f %9.1f %6.1f %8d  %s%n", r.phase, r.ops, r.iops,
                    r.mbPerSecond, r.p50us, r.p99us, r.p999us, r.writebackMbPerSecond, r.writebackRunBlocks, r.blockedOnFreelist, vs));
        }
        for (Bench.PhaseResult r : rs) {
            if (r.stopped != null) {
                sb.append(String.format(Locale.ROOT, "  %s stopped %s: %,d of its %,d requests sent; its figures cover those%n", r.phase,
                        r.stopped.equals(Bench.PhaseResult.MAX_PHASE_SECONDS) ? "at --max-phase-seconds " + Checks.plain(maxPhaseSeconds)
                                : "by " + r.stopped, r.ops, r.plannedOps));
            }
        }
        return sb.toString();
    }
}
