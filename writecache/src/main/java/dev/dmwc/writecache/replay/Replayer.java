package dev.dmwc.writecache.replay;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.DeviceLock;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.BlockDevice;
import dev.dmwc.writecache.block.DeviceFiles;
import dev.dmwc.writecache.block.MappedBlockDevice;
import dev.dmwc.writecache.block.ScratchFiles;
import dev.dmwc.writecache.block.ThrottledBlockDevice;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.Scheduler;
import dev.dmwc.writecache.engine.ThreadedScheduler;
import dev.dmwc.writecache.engine.VirtualScheduler;
import dev.dmwc.writecache.target.WritecacheTarget;
import dev.dmwc.writecache.trace.TraceFormatException;
import dev.dmwc.writecache.trace.TraceReader;
import dev.dmwc.writecache.trace.TraceRecord;
import dev.dmwc.writecache.trace.Traces;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;
import java.util.function.ToLongFunction;
import org.HdrHistogram.Histogram;

/**
 * Replays a block trace through a dm-writecache target on sparse files. Two passes over the
 * trace: a scan (volumes, extent, bad lines — {@code --check} stops there, having written
 * nothing), then the replay. Time is the trace's: the engine's clock (autocommit, max_age,
 * pause_writeback) follows the records' timestamps; {@code --timing real|xN} also paces the
 * wall clock. With {@code --verify} every write carries (sector, version) in each 16 bytes and
 * every read is checked against a per-sector model; at the end everything is written back and
 * read once more.
 */
public final class Replayer {
    /**
     * With {@code --loops}, every pass reads the trace from memory: its files are inflated once
     * (up to 256 MiB decompressed; larger ones are streamed each pass).
     */
    private Traces.Memo memo;

    /** What the user chose; defaults are the CLI's. */
    public static final class Settings implements Cloneable {
        public String mode = "s";
        public long cacheBytes = 256L << 20;
        /**
         * When above 0, the cache is sized after the scan to hold this share of the trace's written
         * footprint (distinct 4 KiB pages written): {@code --cache-size 25%}. {@link #cacheBytes} then
         * becomes the device size that gives that many data blocks after the metadata.
         */
        public double cacheShare;
        /**
         * Warm-up: this many requests are replayed first, then the target gets {@code clear_stats} and
         * the report starts over (counts, latencies, rate, write-back), so the figures describe a warm
         * cache; verification goes on across it. {@link #warmupShare} above 0 takes that share of the
         * requests instead.
         */
        public long warmupRequests;
        public double warmupShare;
        public int blockSize = 4096;
        public List<String> features = List.of();
        public String timing = "afap";
        public boolean verify;
        public boolean noData;
        public String unaligned = "rmw";
        public String beyond = "error";
        public String volume;
        public long skipBad;
        public long limit = Long.MAX_VALUE;
        public Path workDir = ScratchFiles.defaultDir();
        public Long originBytes;
        public ProtectionKeys.Backend backend = ProtectionKeys.Backend.best();
        public dev.dmwc.daxlib.FaultMode faultMode = dev.dmwc.daxlib.FaultMode.STRICT;
        public boolean checkOnly;
        public boolean keep;
        /**
         * Device files to replay onto (null: scratch files). An existing file is used as it is, at
         * its size (an existing cache is loaded as the kernel's resume loads it); a missing one is
         * made at the size a scratch file would have. They stay when the replay ends, committed.
         */
        public Path originFile;
        public Path cacheFile;
        /**
         * Requests in flight at once, each on its own thread (1: one after another, in trace time).
         * Above 1 the engine runs on real threads and its timers follow the wall clock.
         */
        public int queueDepth = 1;
        /**
         * How fast the origin is ({@code --origin-model}, as in bench and serve): every read miss,
         * write-back and flush that reaches it takes the model's time, and write-back keeps its queue
         * depth of I/Os in flight. A throttled model needs {@link #queueDepth} above 1: one request at
         * a time runs in the trace's virtual time, where a device's time does not pass.
         */
        public ThrottledBlockDevice.Model originModel = ThrottledBlockDevice.Model.FILE;
        /**
         * Replay the trace this many times back to back (the logical device, the cache and the
         * model carry over; each pass's times follow the last one's); a short real trace so reaches
         * a warm cache and a steady state.
         */
        public int loops = 1;
        /**
         * Fault the new devices' pages in before the clock starts, so the rate and the latencies
         * measure the cache, not the first touch of fresh memory.
         */
        public boolean prefault;
        /**
         * Time one request in this many for the latency percentiles, chosen at random (gaps drawn
         * uniformly with this mean, so no periodic pattern of the trace aliases with it); 0: the
         * default, every request with data and one in {@link #NO_DATA_LATENCY_EVERY} with
         * {@code --no-data}. Only for one request at a time: with a queue depth every request is timed.
         */
        public int latencyEvery;
        /**
         * Replay even when the devices may not fit in {@link #workDir} (see {@link Replayer#checkSpace});
         * a warning in the report instead of a refusal.
         */
        public boolean noSpaceCheck;
        /**
         * The trace's files kept in memory across replays of the same trace (a sweep: every run
         * reads them from here); null: one is made per replay when it loops.
         */
        public Traces.Memo memo;
        /** Set to end the replay early and report what ran; null: runs to the end. */
        public StopRequest stop;
        /** Usable bytes of the file system holding a directory; a knob for tests. */
        public ToLongFunction<Path> usableSpace = Replayer::usableSpace;

        /**
         * The {@code --no-data} default: there a request costs about 0.1–0.2 µs, and reading the clock
         * twice around each one (27 ns a read on this kvm-clock VM) would cost a third of the replay
         * and measure mostly itself.
         */
        public static final int NO_DATA_LATENCY_EVERY = 16;

        /** A copy to change for one run of a sweep (the lists it holds are not changed in place). */
        public Settings copy() {
            try {
                return (Settings) super.clone();
            } catch (CloneNotSupportedException e) {
                throw new AssertionError(e);
            }
        }

        /** Why {@link #originModel} cannot be replayed with these settings, or null. */
        public String originModelConflict() {
            return originModel.isThrottled() && queueDepth == 1 ? "a throttled --origin-model (" + originModel.name() + ") needs "
                    + "--queue-depth above 1: one request at a time runs in the trace's virtual time, where a device's time does not pass" : null;
        }

        /** The sampling interval in effect. */
        public int latencyEvery() {
            if (queueDepth > 1) {
                return 1;
            }
            return latencyEvery > 0 ? latencyEvery : noData ? NO_DATA_LATENCY_EVERY : 1;
        }
    }

    /** Progress callback: requests done of total, seconds since start. */
    public interface Progress {
        void update(long done, long total, double seconds);

        void done();

        /** Something the user should know now, before the run ends (it is in the report too). */
        default void warn(String message) {
        }
    }

    /** A replay that cannot go on: the message names the record. */
    public static final class ReplayException extends Exception {
        private static final long serialVersionUID = 1L;

        public ReplayException(String message) {
            super(message);
        }
    }

    private final List<Path> trace;
    private final Traces.Options traceOptions;
    private final Settings s;
    private final Progress progress;

    public Replayer(Path trace, Traces.Options traceOptions, Settings settings, Progress progress) {
        this(List.of(trace), traceOptions, settings, progress);
    }

    /** Several files replayed as one trace, one after another ({@link Traces#open(List, Traces.Options, Traces.Memo)}). */
    public Replayer(List<Path> trace, Traces.Options traceOptions, Settings settings, Progress progress) {
        this.trace = List.copyOf(trace);
        this.traceOptions = traceOptions;
        this.s = settings;
        this.progress = progress;
    }

    /** How a report names the trace: its file, or its files joined with " + ". */
    public static String name(List<Path> trace) {
        return String.join(" + ", trace.stream().map(Traces::shown).toList());
    }

    /** The scan: counts, volumes, extent; bad lines tolerated up to --skip-bad. */
    ReplayReport.Scan scan() throws IOException, TraceFormatException, ReplayException {
        ReplayReport.Scan sc = new ReplayReport.Scan();
        Map<String, Long> volumes = new TreeMap<>();
        long[] byOp = new long[TraceRecord.Op.values().length];
        // records of one volume come in runs (readers hand out one String per run): count a run, then merge it
        String runVolume = null;
        long runCount = 0;
        TraceRecord r = new TraceRecord();
        // the origin pages the trace writes; reads take nothing (MappedBlockDevice answers a read
        // of pages never written with zeros, without a fault that would allocate a tmpfs page)
        TouchedPages fill = (s.noData && s.cacheShare == 0) || s.checkOnly ? null : new TouchedPages();
        memo = s.memo != null ? s.memo : s.loops > 1 && !s.checkOnly ? new Traces.Memo() : null;
        try (TraceReader in = Traces.open(trace, traceOptions, memo)) {
            sc.format = in.format();
            while (true) {
                boolean more;
                try {
                    more = in.next(r);
                } catch (TraceFormatException e) {
                    if (++sc.badLines > s.skipBad) {
                        throw e;
                    }
                    if (sc.firstBad == null) {
                        sc.firstBad = Traces.shown(e.getMessage());
                    }
                    continue;
                }
                if (!more) {
                    break;
                }
                if ((sc.records & 4095) == 0 && s.stop != null && s.stop.requested()) {
                    throw new ReplayException("stopped by " + s.stop.by() + " while reading the trace, before replaying any of it");
                }
                String v = r.volume == null ? "" : r.volume;
                if (v != runVolume) {
                    if (runVolume != null) {
                        volumes.merge(runVolume, runCount, Long::sum);
                    }
                    runVolume = v;
                    runCount = 0;
                }
                runCount++;
                if (s.volume != null && !s.volume.equals(v)) {
                    continue;
                }
                if (sc.records >= s.limit) {
                    continue;
                }
                sc.records++;
                byOp[r.op.ordinal()]++;
                if (r.op != TraceRecord.Op.FLUSH) {
                    sc.extent = Math.max(sc.extent, r.offset + r.length);
                }
                if (fill != null && r.op == TraceRecord.Op.WRITE) {
                    fill.add(r.offset, r.length);
                }
                if (r.timeNs >= 0) {
                    sc.lastTimeNs = Math.max(sc.lastTimeNs, r.timeNs);
                }
            }
        }
        // --loops: the later passes are parsed here too (the parse-only rate is over what the replay
        // parses); they only count, the first pass found everything else
        for (int pass = 1; pass < (s.checkOnly ? 1 : s.loops); pass++) { // --check validates one pass
            try (TraceReader in = Traces.open(trace, traceOptions, memo)) {
                while (true) {
                    try {
                        if (!in.next(r)) {
                            break;
                        }
                    } catch (TraceFormatException e) {
                        continue; // counted in the first pass
                    }
                    if ((s.volume == null || s.volume.equals(r.volume == null ? "" : r.volume)) && sc.records < s.limit) {
                        sc.records++;
                        byOp[r.op.ordinal()]++;
                    }
                }
            }
        }
        if (runVolume != null) {
            volumes.merge(runVolume, runCount, Long::sum);
        }
        for (TraceRecord.Op op : TraceRecord.Op.values()) {
            if (byOp[op.ordinal()] > 0) {
                sc.byOp.put(op, byOp[op.ordinal()]);
            }
        }
        sc.volumes = volumes;
        sc.writtenFootprintBytes = fill == null ? 0 : fill.bytes();
        sc.originFillBytes = s.noData ? 0 : sc.writtenFootprintBytes;
        if (s.volume == null && volumes.size() > 1) {
            throw new ReplayException("the trace has " + volumes.size() + " volumes (" + String.join(", ",
                    volumes.keySet().stream().limit(10).toList()) + (volumes.size() > 10 ? ", …" : "")
                    + "); replay one with --volume ID");
        }
        if (s.volume != null && !volumes.containsKey(s.volume)) {
            throw new ReplayException("no volume '" + s.volume + "' in the trace (it has: " + String.join(", ",
                    volumes.keySet().stream().limit(10).toList()) + ")");
        }
        return sc;
    }

    public ReplayReport run() throws IOException, TraceFormatException, ReplayException, DmError {
        if (s.originModelConflict() != null) {
            throw new ReplayException(s.originModelConflict());
        }
        long t0 = System.nanoTime();
        ReplayReport.Scan sc = scan();
        ReplayReport rep = new ReplayReport(name(trace), s, sc);
        rep.scanSeconds = (System.nanoTime() - t0) / 1e9;
        if (s.checkOnly) {
            return rep;
        }
        int bs = s.blockSize;
        long originBytes = s.originBytes != null ? s.originBytes : Math.max(roundUp(sc.extent, bs), 1L << 20);
        for (Path p : new Path[] {s.originFile, s.cacheFile}) {
            if (p != null) {
                try {
                    if (p == s.originFile) {
                        DeviceFiles.checkKind(p, "the origin");
                    } else {
                        DeviceFiles.checkCacheKind(p, "the cache", s.mode.equals("p"));
                    }
                } catch (IllegalArgumentException e) {
                    throw new ReplayException(e.getMessage());
                }
            }
        }
        if (s.originFile != null && Files.exists(s.originFile)) {
            long size = DeviceFiles.size(s.originFile);
            if (s.originBytes != null && s.originBytes != size) {
                throw new ReplayException("--origin-size " + s.originBytes + " is not the size of the origin " + s.originFile + " (" + size + ")");
            }
            if (size % 512 != 0 || size == 0) {
                throw new ReplayException("the origin " + s.originFile + " is " + size + " bytes, not a whole number of 512-byte sectors");
            }
            originBytes = size;
        }
        if (s.cacheFile != null && Files.exists(s.cacheFile)) {
            s.cacheBytes = DeviceFiles.size(s.cacheFile);
            int unit = s.mode.equals("p") ? 4096 : 512; // a dax device is whole pages, a block device whole sectors
            if (s.cacheBytes == 0 || s.cacheBytes % unit != 0) {
                throw new ReplayException("the cache " + s.cacheFile + " is " + s.cacheBytes + " bytes, not a whole number of "
                        + unit + "-byte " + (unit == 4096 ? "pages (a pmem cache)" : "sectors"));
            }
        }
        if (originBytes % bs != 0) {
            throw new ReplayException("--origin-size " + originBytes + " is not a multiple of the block size " + bs);
        }
        if (sc.extent > originBytes && s.beyond.equals("error")) {
            // refused before a device is touched: met in the middle, the files given would be half replayed
            throw new ReplayException("the trace reaches byte " + sc.extent + ", beyond the origin (" + originBytes + " bytes"
                    + (s.originFile != null && Files.exists(s.originFile) ? ", the size of " + s.originFile : "")
                    + "); --beyond wrap|skip, or a larger origin");
        }
        if (s.originModel.misfit(originBytes) != null) { // refused before a device is made
            throw new ReplayException("--origin-model " + s.originModel.misfit(originBytes) + " (the origin)");
        }
        rep.originBytes = originBytes;
        if (s.cacheShare > 0) {
            s.cacheBytes = cacheBytesForShare(sc.writtenFootprintBytes, s.cacheShare, bs);
        }
        boolean ownOrigin = s.originFile == null;
        boolean ownCache = s.cacheFile == null;
        if (ownOrigin || ownCache) {
            ScratchFiles.sweep(s.workDir); // before the space check: the space of what a killed dmwc left counts
        }
        checkSpace(sc, originBytes, rep);
        // scratch devices are named by this process, so that a run after a SIGKILL removes them; kept ones are not
        Path dir = !(ownOrigin || ownCache) ? null
                : s.keep ? Files.createTempDirectory(s.workDir, "dmwc-replay-") : ScratchFiles.createDirectory(s.workDir, "replay");
        Path originPath = ownOrigin ? dir.resolve("origin.img") : s.originFile;
        Path cachePath = ownCache ? dir.resolve("cache.img") : s.cacheFile;
        // the user's files: made here if missing, and then removed again if the target refuses them
        boolean newOriginFile = !ownOrigin && !Files.exists(originPath);
        boolean newCacheFile = !ownCache && !Files.exists(cachePath);
        if (!s.keep && dir != null) { // removed below when the run ends; registered, they go also when SIGINT or SIGTERM stops it
            if (ownOrigin) {
                ScratchFiles.register(originPath);
            }
            if (ownCache) {
                ScratchFiles.register(cachePath);
            }
        }
        if (!ownOrigin || !ownCache) {
            rep.deviceFiles = "origin " + originPath + ", cache " + cachePath;
        }
        DaxDevice dax = null;
        MappedBlockDevice origin = null;
        MappedBlockDevice ssd = null;
        WritecacheTarget t = null;
        List<DeviceLock> locks = new ArrayList<>();
        try {
            // device files another dmwc has open are refused before they are touched (the kernel opens a
            // target's devices exclusively); one made here is taken once it exists
            lockDevice(locks, originPath, !ownOrigin && !newOriginFile);
            lockDevice(locks, cachePath, !ownCache && !newCacheFile);
            origin = MappedBlockDevice.create(originPath, originBytes, false);
            Object cache;
            if (s.mode.equals("p")) {
                if (!Files.exists(cachePath)) {
                    try (RandomAccessFile f = new RandomAccessFile(cachePath.toFile(), "rw")) {
                        f.setLength(s.cacheBytes);
                    }
                }
                dax = DaxDevice.open(cachePath, new DaxDevice.Options().backend(s.backend).faultMode(s.faultMode));
                cache = dax;
            } else {
                ssd = MappedBlockDevice.createWithoutDiscards(cachePath, s.cacheBytes, false);
                cache = ssd;
            }
            lockDevice(locks, originPath, newOriginFile);
            lockDevice(locks, cachePath, newCacheFile);
            List<String> table = new ArrayList<>(List.of(s.mode, "origin", "cache", Integer.toString(bs),
                    Integer.toString(s.features.size())));
            table.addAll(s.features);
            rep.table = String.join(" ", table);
            VirtualScheduler sched = s.queueDepth > 1 ? null : new VirtualScheduler();
            // write-back keeps as many I/Os in flight as the origin's queue takes
            Scheduler engineSched = sched != null ? sched
                    : new ThreadedScheduler(s.originModel.queueDepth(), e -> rep.mismatch("engine work failed: " + e));
            BlockDevice originDevice = ThrottledBlockDevice.wrap(origin, s.originModel);
            try {
                t = WritecacheTarget.create(table, Map.of("origin", originDevice, "cache", cache), engineSched, null,
                        m -> {
                            synchronized (rep) {
                                rep.kernelLog.add(m);
                            }
                        });
            } catch (DmError e) { // refused: a device file made for this run goes again
                origin.close();
                origin = null;
                if (dax != null) {
                    dax.close();
                    dax = null;
                }
                if (ssd != null) {
                    ssd.close();
                    ssd = null;
                }
                if (newOriginFile) {
                    Files.deleteIfExists(originPath);
                }
                if (newCacheFile) {
                    Files.deleteIfExists(cachePath);
                }
                throw e;
            }
            t.engine().setDataless(s.noData);
            if (s.prefault) {
                long p0 = System.nanoTime();
                // through the engine's own mappings: in pmem mode its permanent mapping, whose
                // page tables the dax mapping's faults do not fill
                t.engine().touchAllPages();
                rep.prefaultSeconds = (System.nanoTime() - p0) / 1e9;
            }
            replay(t, sched, sc, rep, originBytes);
            rep.finalStatus = t.status();
            rep.protection = dax == null ? null : dax.protection();
            rep.writebackBlocks = t.engine().writebackBlocks() - rep.writebackBlocksInWarmup;
            rep.writebackRuns = t.engine().writebackRuns() - rep.writebackRunsInWarmup;
            if (s.verify && !s.noData) {
                finalCheck(t, sched, rep, originBytes);
                rep.protection = dax == null ? null : dax.protection();
            }
            t.remove();
            t = null;
        } finally {
            if (t != null) {
                t.close();
            }
            if (dax != null) {
                dax.close();
            }
            if (origin != null) {
                origin.close();
            }
            if (ssd != null) {
                ssd.close();
            }
            for (DeviceLock l : locks) {
                l.close();
            }
            if (!s.keep) {
                if (ownOrigin) {
                    ScratchFiles.delete(originPath);
                }
                if (ownCache) {
                    ScratchFiles.delete(cachePath);
                }
                if (dir != null) {
                    ScratchFiles.delete(dir);
                }
            } else if (dir != null) {
                rep.keptIn = dir.toString();
            }
        }
        rep.totalSeconds = (System.nanoTime() - t0) / 1e9;
        return rep;
    }

    /** Takes a device file for this process when {@code now}; one another dmwc holds is refused. */
    private static void lockDevice(List<DeviceLock> locks, Path p, boolean now) throws IOException, ReplayException {
        try {
            DeviceFiles.lock(locks, p, now);
        } catch (DeviceLock.InUse e) {
            throw new ReplayException(e.getMessage());
        }
    }

    /**
     * The cache device's size whose data blocks hold {@code share} of {@code footprint} bytes
     * (rounded up to whole blocks), after the metadata {@code calculate_memory_size} puts before them.
     */
    public static long cacheBytesForShare(long footprint, double share, int blockSize) throws ReplayException {
        if (footprint == 0) {
            throw new ReplayException("--cache-size " + percent(share) + " is a share of the pages the trace writes, and it "
                    + "writes none: give the cache a size (256M)");
        }
        long blocks = Math.max(1, (long) Math.ceil(footprint * share / blockSize));
        return dev.dmwc.writecache.format.MemoryLayout.metadataBytes(blocks, blockSize) + blocks * blockSize;
    }

    /** A share as a percentage for messages: 0.25 is "25%". */
    static String percent(double share) {
        return String.format(java.util.Locale.ROOT, "%s%%", new java.math.BigDecimal(share * 100).round(new java.math.MathContext(6))
                .stripTrailingZeros().toPlainString());
    }

    /**
     * Refuses, before any file is made, a replay whose devices may not fit in the work directory
     * (on a full /dev/shm a replay dies with no report, and takes the machine's memory with it);
     * warns when they take more than 80 % of it. The need is an upper bound: the origin's pages the
     * trace can fill (or all of it with {@code --prefault}) plus the whole cache (its metadata only
     * with {@code --no-data}).
     */
    void checkSpace(ReplayReport.Scan sc, long originBytes, ReplayReport rep) throws ReplayException {
        // the scratch files only: device files given with --origin/--cache are the user's to place
        long origin = s.originFile != null ? 0 : s.prefault ? originBytes : Math.min(originBytes, sc.originFillBytes);
        long cache = s.cacheFile != null ? 0
                : s.noData && !s.prefault ? Math.min(s.cacheBytes, s.cacheBytes / s.blockSize * 16 + (1L << 20)) : s.cacheBytes;
        long need = origin + cache;
        long free = s.usableSpace.applyAsLong(s.workDir);
        String what = String.format(java.util.Locale.ROOT, "up to %s in %s: origin %s (%s), cache %s%s; %s is free there",
                ReplayReport.size(need), s.workDir, ReplayReport.size(origin),
                s.prefault ? "all of it, --prefault" : "the pages the trace can fill", ReplayReport.size(cache),
                s.noData && !s.prefault ? " (metadata, --no-data)" : "", ReplayReport.size(free));
        if (need > free && !s.noSpaceCheck) {
            throw new ReplayException("the devices may not fit: this replay needs " + what + "; replay on a larger file system "
                    + "with --work-dir DIR, or a part of the trace with --limit N" + (s.prefault ? ", or without --prefault" : "")
                    + " (--no-space-check replays anyway)");
        }
        if (need > free / 10 * 8) {
            String w = (need > free ? "the devices may not fit: " : "the devices may take most of the free space: ")
                    + "this replay needs " + what;
            rep.warnings.add(w);
            if (progress != null) {
                progress.warn(w);
            }
        }
    }

    static long usableSpace(Path dir) {
        try {
            return Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE; // unknown: the replay's own file creation reports a missing directory
        }
    }

    private static long roundUp(long v, long m) {
        return (v + m - 1) / m * m;
    }

    private SectorModel model;
    private final java.util.concurrent.atomic.AtomicLong nextVersion = new java.util.concurrent.atomic.AtomicLong(1);
    /** Payload buffers, one per replaying thread; requests needing a second one (read-modify-write) take {@code buffer2}. */
    private final ThreadLocal<ByteBuffer[]> bufs = ThreadLocal.withInitial(() -> new ByteBuffer[] {
        ByteBuffer.allocateDirect(1 << 20), ByteBuffer.allocateDirect(1 << 20)});

    private ByteBuffer buffer(long bytes) throws ReplayException {
        return buffer(bytes, 0);
    }

    private ByteBuffer buffer(long bytes, int which) throws ReplayException {
        if (bytes > Integer.MAX_VALUE - 4096) {
            throw new ReplayException("request of " + bytes + " bytes is too large to replay");
        }
        ByteBuffer[] mine = bufs.get();
        if (mine[which].capacity() < bytes) {
            mine[which] = ByteBuffer.allocateDirect((int) roundUp(bytes, 1 << 20));
        }
        ByteBuffer b = mine[which].duplicate();
        b.clear().limit((int) bytes);
        return b;
    }

    private void replay(WritecacheTarget t, VirtualScheduler sched, ReplayReport.Scan sc, ReplayReport rep, long originBytes)
            throws IOException, TraceFormatException, ReplayException {
        if (s.verify && !s.noData) {
            model = new SectorModel(originBytes / 512);
        }
        double speed = s.timing.equals("afap") ? 0 : s.timing.equals("real") ? 1 : Double.parseDouble(s.timing.substring(1));
        Map<TraceRecord.Op, Histogram> lat = new EnumMap<>(TraceRecord.Op.class);
        for (TraceRecord.Op op : TraceRecord.Op.values()) {
            lat.put(op, new Histogram(3_600_000_000_000L, 2));
        }
        rep.latency = lat;
        Histogram[] latByOp = new Histogram[TraceRecord.Op.values().length];
        lat.forEach((op, h) -> latByOp[op.ordinal()] = h);
        long sampleEvery = Math.max(1, sc.records / 200);
        long toSample = sampleEvery;
        int timeEvery = s.latencyEvery();
        SplittableRandom timeGaps = new SplittableRandom(0x6c6174656e6379L);
        long toTime = 1; // the first request is timed
        long warmup = s.warmupShare > 0 ? (long) Math.floor(sc.records * s.warmupShare) : s.warmupRequests;
        if (warmup >= sc.records && warmup > 0) {
            throw new ReplayException("--warmup of " + warmup + " requests leaves nothing to measure: the replay has "
                    + sc.records + " (with --loops N it has N times the trace)");
        }
        TraceRecord r = new TraceRecord();
        long done = 0;
        long start = System.nanoTime(); // the pace (--timing) is kept from here
        long measuredFrom = start; // the rate's clock: from the warm-up's end, if there is one
        long lastProgress = 0;
        InFlight inFlight = s.queueDepth > 1 ? new InFlight(s.queueDepth) : null;
        int pass = 0;
        long passOffsetNs = 0;
        TraceReader in = Traces.open(trace, traceOptions, memo);
        try {
            while (done < sc.records) {
                if (s.stop != null && s.stop.requested()) {
                    rep.stoppedBy = s.stop.by();
                    break;
                }
                boolean more;
                try {
                    more = in.next(r);
                } catch (TraceFormatException e) {
                    continue; // counted by the scan, within --skip-bad
                }
                if (!more) {
                    if (++pass >= s.loops) {
                        break;
                    }
                    in.close();
                    in = Traces.open(trace, traceOptions, memo);
                    passOffsetNs += Math.max(0, sc.lastTimeNs);
                    continue;
                }
                if (s.volume != null && !s.volume.equals(r.volume == null ? "" : r.volume)) {
                    continue;
                }
                if (r.timeNs >= 0) {
                    r.timeNs += passOffsetNs;
                }
                if (r.timeNs >= 0) {
                    long ms = r.timeNs / 1_000_000L;
                    if (sched != null && ms > sched.nowMs()) {
                        sched.advance(ms - sched.nowMs());
                    }
                    if (speed > 0) {
                        long due = start + (long) (r.timeNs / speed);
                        // in slices, so that a stop asked for during a long pause in the trace is seen
                        for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                            if (s.stop != null && s.stop.requested()) {
                                break;
                            }
                            LockSupport.parkNanos(Math.min(wait, 50_000_000L));
                        }
                        if (s.stop != null && s.stop.requested()) {
                            rep.stoppedBy = s.stop.by();
                            break;
                        }
                    }
                }
                rep.count(r);
                if (inFlight != null) {
                    inFlight.dispatch(t, r, rep, originBytes, lat);
                } else if (--toTime == 0) {
                    toTime = timeEvery == 1 ? 1 : 1 + timeGaps.nextInt(2 * timeEvery - 1); // mean timeEvery
                    long ts = System.nanoTime();
                    one(t, r, rep, originBytes);
                    latByOp[r.op.ordinal()].recordValue(Math.max(1, System.nanoTime() - ts));
                    sched.runPending();
                } else {
                    one(t, r, rep, originBytes);
                    sched.runPending();
                }
                done++;
                if (done == warmup) {
                    if (inFlight != null) {
                        inFlight.drain();
                    }
                    endWarmup(t, rep, done, (System.nanoTime() - start) / 1e9, r.timeNs < 0 ? done : r.timeNs / 1e9);
                    measuredFrom = System.nanoTime();
                }
                if (--toSample == 0) { // done % sampleEvery, without a division per request
                    toSample = sampleEvery;
                    rep.sample(r.timeNs, done, t.status(), t.engine().writebackBlocks());
                }
                if (progress != null && (done & 1023) == 0) {
                    long now = System.nanoTime();
                    if (now - lastProgress > 200_000_000L) {
                        progress.update(done, sc.records, (now - start) / 1e9);
                        lastProgress = now;
                    }
                }
            }
        } finally {
            in.close();
        }
        if (inFlight != null) {
            inFlight.close(); // wait for what is in flight
            if (inFlight.failure != null) {
                throw inFlight.failure;
            }
        }
        rep.replaySeconds = (System.nanoTime() - measuredFrom) / 1e9;
        rep.requests = done - rep.warmupRequests;
        rep.sample(r.timeNs, done, t.status(), t.engine().writebackBlocks());
        if (progress != null) {
            progress.update(done, sc.records, (System.nanoTime() - start) / 1e9);
            progress.done();
        }
    }

    /**
     * The warm-up's end: {@code dmsetup message clear_stats} (the target's counters restart, as on
     * the kernel) and the report's own counts, latencies and write-back totals start over.
     */
    private void endWarmup(WritecacheTarget t, ReplayReport rep, long done, double seconds, double x) throws ReplayException {
        try {
            t.message(new String[] {"clear_stats"});
        } catch (DmError e) {
            throw new ReplayException("clear_stats after the warm-up was refused: " + e.getMessage());
        }
        rep.startOver(done, seconds, x, t.engine().writebackBlocks(), t.engine().writebackRuns());
    }

    /** The longest discard bio sent at once (1 GiB, a multiple of every block size). */
    static final int MAX_DISCARD_BYTES = 1 << 30;

    private void one(WritecacheTarget t, TraceRecord r, ReplayReport rep, long originBytes) throws ReplayException {
        int bs = s.blockSize;
        if (r.op == TraceRecord.Op.FLUSH) {
            String err = t.flush();
            if (err != null) {
                rep.error(r, "flush failed: " + err);
            }
            return;
        }
        long off = r.offset;
        long len = r.length;
        if (off + len > originBytes) {
            rep.add(x -> x.beyond++);
            switch (s.beyond) {
                case "skip" -> {
                    return;
                }
                case "wrap" -> {
                    off = (off % originBytes) / 512 * 512;
                    len = Math.min(len, originBytes - off);
                }
                default -> throw new ReplayException(r.position + ": " + r + " ends at byte " + (r.offset + r.length)
                        + ", beyond the origin (" + originBytes + " bytes); --beyond wrap|skip");
            }
        }
        // the block size is a power of two (the table refused others): masks, not divisions
        long mask = bs - 1;
        long a0 = off & ~mask;
        long a1 = (off + len + mask) & ~mask;
        boolean aligned = a0 == off && a1 == off + len;
        if (r.op == TraceRecord.Op.DISCARD) {
            long d0 = (off + mask) & ~mask;
            long d1 = (off + len) & ~mask;
            if (!aligned) {
                rep.add(x -> x.unalignedDiscards++);
            }
            if (d1 <= d0) {
                return;
            }
            // a bio's size is 32 bits: a longer discard (fio's trim, MSR, CSV) goes as several,
            // as blkdev_issue_discard sends one
            for (long p = d0; p < d1;) {
                int n = (int) Math.min(d1 - p, MAX_DISCARD_BYTES);
                String err = t.submit(Bio.Op.DISCARD, 0, p >> 9, n, null);
                if (err != null) {
                    rep.error(r, "discard failed: " + err);
                    return;
                }
                if (model != null) {
                    model.discard(p >> 9, n >> 9);
                }
                p += n;
            }
            return;
        }
        if (!aligned) {
            if (s.unaligned.equals("error")) {
                throw new ReplayException(r.position + ": " + r + " is not aligned to the " + bs
                        + "-byte cache block (--unaligned rmw|widen to replay it)");
            }
            rep.add(x -> x.unaligned++);
        }
        int flags = (r.has(TraceRecord.PREFLUSH) ? Bio.REQ_PREFLUSH : 0) | (r.has(TraceRecord.FUA) ? Bio.REQ_FUA : 0);
        if (r.op == TraceRecord.Op.READ) {
            ByteBuffer b = s.noData ? null : buffer(a1 - a0);
            String err = t.submit(Bio.Op.READ, 0, a0 >> 9, (int) (a1 - a0), b);
            if (err != null) {
                rep.error(r, "read failed: " + err);
            } else if (model != null) {
                verify(b, a0, a1, r, rep);
            }
            return;
        }
        // a write
        if (s.noData) {
            String err = t.submit(Bio.Op.WRITE, flags, a0 >> 9, (int) (a1 - a0), null);
            if (err != null) {
                rep.error(r, "write failed: " + err);
            }
            return;
        }
        int n = (int) ((a1 - a0) >> 9);
        long v = nextVersion.getAndIncrement();
        long first = a0 >> 9;
        if (aligned || model == null || s.unaligned.equals("widen")) {
            // every sector of the write gets this version: no per-sector versions to keep
            if (!aligned && s.unaligned.equals("rmw") && rmwRead(t, r, rep, a0, a1) == null) {
                return;
            }
            ByteBuffer b = buffer(a1 - a0);
            SectorModel.fill(b, first, n, v);
            String err = t.submit(Bio.Op.WRITE, flags, a0 >> 9, (int) (a1 - a0), b);
            if (err != null) {
                rep.error(r, "write failed: " + err);
            } else if (model != null) {
                model.set(first, n, v);
            }
            return;
        }
        long[] versions = new long[n];
        long lo = off >> 9;
        long hi = (off + len + 511) >> 9;
        ByteBuffer old = null;
        if (s.unaligned.equals("rmw")) {
            old = rmwRead(t, r, rep, a0, a1);
            if (old == null) {
                return;
            }
            verify(old, a0, a1, r, rep);
        }
        for (int i = 0; i < n; i++) {
            long sector = first + i;
            boolean inside = sector >= lo && sector < hi;
            // outside the request: what the read returned (checked against the model above)
            versions[i] = inside ? v : model.get(sector) >= 0 || old == null ? model.get(sector) : SectorModel.versionIn(old, i);
        }
        ByteBuffer b = buffer(a1 - a0);
        SectorModel.fill(b, first, n, versions, 0);
        String err = t.submit(Bio.Op.WRITE, flags, a0 >> 9, (int) (a1 - a0), b);
        if (err != null) {
            rep.error(r, "write failed: " + err);
            return;
        }
        if (model != null) {
            for (int i = 0; i < n; i++) {
                model.set(first + i, 1, versions[i]);
            }
        }
    }

    /** The read of a read-modify-write (the whole blocks an unaligned write touches); null when it failed (reported). */
    private ByteBuffer rmwRead(WritecacheTarget t, TraceRecord r, ReplayReport rep, long a0, long a1) throws ReplayException {
        ByteBuffer old = buffer(a1 - a0, 1);
        String err = t.submit(Bio.Op.READ, 0, a0 >> 9, (int) (a1 - a0), old);
        rep.add(x -> x.rmwReads++);
        if (err != null) {
            rep.error(r, "read-modify-write: read failed: " + err);
            return null;
        }
        return old;
    }

    private void verify(ByteBuffer b, long a0, long a1, TraceRecord r, ReplayReport rep) {
        int n = (int) ((a1 - a0) >> 9);
        rep.add(x -> x.verifiedReads++);
        int bad = model.check(b, a0 >> 9, 0, n);
        if (bad >= 0) {
            long sector = (a0 >> 9) + bad;
            rep.mismatch(r.position + ": " + r + ": sector " + sector + " should hold " + model.expected(sector)
                    + ", holds " + SectorModel.describe(b, bad));
        }
    }

    /** After the trace: write everything back (message flush), then read the whole device once more. */
    private void finalCheck(WritecacheTarget t, VirtualScheduler sched, ReplayReport rep, long originBytes) throws ReplayException {
        try {
            t.message(new String[] {"flush"});
        } catch (DmError e) {
            rep.mismatch("final check: message flush failed: " + e.getMessage());
            return;
        }
        if (sched != null) {
            sched.runPending();
        }
        long chunk = 1 << 20;
        for (long off = 0; off < originBytes; off += chunk) {
            long len = Math.min(chunk, originBytes - off);
            ByteBuffer b = buffer(len);
            String err = t.submit(Bio.Op.READ, 0, off >> 9, (int) len, b);
            if (err != null) {
                rep.mismatch("final check: read at byte " + off + " failed: " + err);
                return;
            }
            int bad = model.check(b, off >> 9, 0, (int) (len >> 9));
            rep.finalCheckedBytes += len;
            if (bad >= 0) {
                long sector = (off >> 9) + bad;
                rep.mismatch("final check after writeback: sector " + sector + " should hold " + model.expected(sector)
                        + ", holds " + SectorModel.describe(b, bad));
            }
        }
    }

    /**
     * Up to {@code depth} requests in flight on as many threads. A request waits while another in
     * flight overlaps its cache blocks (so each block's order, and the model, stay those of the
     * trace); a flush, a PREFLUSH write and a request beyond the origin wait for everything in
     * flight and run alone, as a barrier.
     */
    private final class InFlight implements AutoCloseable {
        private final int depth;
        private final java.util.concurrent.ExecutorService pool;
        private final List<long[]> ranges = new ArrayList<>();
        volatile ReplayException failure;

        InFlight(int depth) {
            this.depth = depth;
            java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
            this.pool = java.util.concurrent.Executors.newFixedThreadPool(depth, r -> {
                Thread th = new Thread(r, "replay-" + n.incrementAndGet());
                th.setDaemon(true);
                return th;
            });
        }

        private boolean overlaps(long a, long b) {
            for (long[] x : ranges) {
                if (x[0] < b && a < x[1]) {
                    return true;
                }
            }
            return false;
        }

        private void await(java.util.function.BooleanSupplier ready) throws ReplayException {
            synchronized (ranges) {
                while (!ready.getAsBoolean()) {
                    if (failure != null) {
                        throw failure;
                    }
                    try {
                        ranges.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new ReplayException("interrupted");
                    }
                }
            }
        }

        void dispatch(WritecacheTarget t, TraceRecord rec, ReplayReport rep, long originBytes,
                Map<TraceRecord.Op, Histogram> lat) throws ReplayException {
            if (failure != null) {
                throw failure;
            }
            int bs = s.blockSize;
            boolean barrier = rec.op == TraceRecord.Op.FLUSH || rec.has(TraceRecord.PREFLUSH) || rec.offset + rec.length > originBytes;
            if (barrier) {
                await(ranges::isEmpty);
                long ts = System.nanoTime();
                one(t, rec, rep, originBytes);
                record(lat, rec.op, System.nanoTime() - ts);
                return;
            }
            long a = rec.offset / bs * bs;
            long b = roundUp(rec.offset + rec.length, bs);
            long[] range = {a, b};
            await(() -> ranges.size() < depth && !overlaps(a, b));
            synchronized (ranges) {
                ranges.add(range);
            }
            TraceRecord mine = rec.copy();
            pool.execute(() -> {
                try {
                    long ts = System.nanoTime();
                    one(t, mine, rep, originBytes);
                    record(lat, mine.op, System.nanoTime() - ts);
                } catch (ReplayException e) {
                    failure = e;
                } catch (RuntimeException e) {
                    failure = new ReplayException(mine.position + ": " + mine + ": " + e);
                } finally {
                    synchronized (ranges) {
                        ranges.remove(range);
                        ranges.notifyAll();
                    }
                }
            });
        }

        private void record(Map<TraceRecord.Op, Histogram> lat, TraceRecord.Op op, long ns) {
            Histogram h = lat.get(op);
            synchronized (h) {
                h.recordValue(Math.max(1, ns));
            }
        }

        /** Wait for everything in flight, and go on. */
        void drain() throws ReplayException {
            await(ranges::isEmpty);
        }

        /** Wait for everything in flight. */
        @Override
        public void close() throws ReplayException {
            try {
                await(ranges::isEmpty);
            } finally {
                pool.shutdown();
            }
        }
    }
}
