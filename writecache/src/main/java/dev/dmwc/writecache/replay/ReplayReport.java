package dev.dmwc.writecache.replay;

import dev.dmwc.writecache.cli.Json;
import dev.dmwc.writecache.trace.TraceRecord;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** What a replay did: counts, the target's counters, latencies, verification — as a table or JSON. */
public final class ReplayReport {
    /** The scan pass. */
    public static final class Scan {
        public String format;
        public long records;
        public long badLines;
        public String firstBad;
        public long extent;
        public long lastTimeNs = -1;
        public Map<String, Long> volumes = Map.of();
        public final Map<TraceRecord.Op, Long> byOp = new EnumMap<>(TraceRecord.Op.class);
        /**
         * Bytes of the origin's sparse file the replay can fill, at most: the pages the trace writes
         * (reads of pages never written allocate nothing); 0 with {@code --no-data}.
         */
        public long originFillBytes;
        /** Distinct 4 KiB pages the trace writes, in bytes (counted for the space check and for {@code --cache-size N%}). */
        public long writtenFootprintBytes;
    }

    static final String[] STATUS_FIELDS = dev.dmwc.writecache.engine.Writecache.STATUS_FIELDS;

    public final String trace;
    public final Replayer.Settings settings;
    public final Scan scan;
    public final List<String> kernelLog = new ArrayList<>();
    /** What the user should know before trusting the run (e.g. a work directory nearly full). */
    public final List<String> warnings = new ArrayList<>();
    public String table;
    public long originBytes;
    public long requests;
    public long verifiedReads;
    public long mismatches;
    public final List<String> mismatchExamples = new ArrayList<>();
    public long errors;
    public final List<String> errorExamples = new ArrayList<>();
    public long unaligned;
    public long unalignedDiscards;
    public long rmwReads;
    public long beyond;
    public long finalCheckedBytes;
    public String finalStatus;
    public long writebackBlocks;
    public long writebackRuns;
    public double scanSeconds;
    /** Time spent faulting the devices in before the replay ({@code --prefault}); NaN when not asked. */
    public double prefaultSeconds = Double.NaN;
    public double replaySeconds;
    public double totalSeconds;
    public String keptIn;
    /** The device files given with --origin/--cache (the others scratch), null when all were scratch. */
    public String deviceFiles;
    /** pmem mode: the dax range's protection and the stray accesses it met (null in ssd mode). */
    public dev.dmwc.daxlib.DaxDevice.Protection protection;
    /** Requests replayed before the figures started ({@code --warmup}), their wall time, and the write-back done meanwhile. */
    public long warmupRequests;
    /** What ended the replay early (a {@link StopRequest}), or null when it ran to the end. */
    public String stoppedBy;
    public double warmupSeconds;
    /** Where the warm-up ended on the timeline's x axis (trace seconds, or requests when the trace has no times); NaN: none. */
    public double warmupEndX = Double.NaN;
    long writebackBlocksInWarmup;
    long writebackRunsInWarmup;
    public Map<TraceRecord.Op, Histogram> latency = Map.of();
    /** Requests and bytes by op ordinal; only the replay thread counts (see {@link #count}). */
    private final long[][] counts = new long[TraceRecord.Op.values().length][2];
    private long preflushes;
    private long fuas;
    /** Time series for plots: trace seconds, requests, read hit %, dirty blocks, free blocks, written back blocks. */
    public final List<double[]> samples = new ArrayList<>();

    ReplayReport(String trace, Replayer.Settings settings, Scan scan) {
        this.trace = trace;
        this.settings = settings;
        this.scan = scan;
    }

    /**
     * Count a request as it is dispatched. Called on the replay thread only (also with
     * {@code --queue-depth}, before the hand-off), so without a lock: every request would pay for it.
     */
    void count(TraceRecord r) {
        long[] c = counts[r.op.ordinal()];
        c[0]++;
        c[1] += r.length;
        if (r.has(TraceRecord.PREFLUSH)) {
            preflushes++;
        }
        if (r.has(TraceRecord.FUA)) {
            fuas++;
        }
    }

    /** The warm-up ended: counts and latencies start over (verification counts go on). Nothing is in flight. */
    synchronized void startOver(long requests, double seconds, double x, long writebackBlocks, long writebackRuns) {
        warmupRequests = requests;
        warmupSeconds = seconds;
        warmupEndX = x;
        writebackBlocksInWarmup = writebackBlocks;
        writebackRunsInWarmup = writebackRuns;
        for (long[] c : counts) {
            c[0] = 0;
            c[1] = 0;
        }
        preflushes = 0;
        fuas = 0;
        unaligned = 0;
        unalignedDiscards = 0;
        rmwReads = 0;
        beyond = 0;
        latency.values().forEach(Histogram::reset);
    }

    synchronized void error(TraceRecord r, String what) {
        errors++;
        if (errorExamples.size() < 20) {
            errorExamples.add(r.position + ": " + r + ": " + what);
        }
    }

    /** Add to a counter from any replay thread. */
    synchronized void add(java.util.function.Consumer<ReplayReport> change) {
        change.accept(this);
    }

    synchronized void mismatch(String what) {
        mismatches++;
        if (mismatchExamples.size() < 20) {
            mismatchExamples.add(what);
        }
    }

    void sample(long timeNs, long done, String status, long wbBlocks) {
        long[] f = fields(status);
        double hit = f[4] == 0 ? 0 : 100.0 * f[5] / f[4];
        samples.add(new double[] {timeNs < 0 ? done : timeNs / 1e9, done, hit, f[1] - f[2], f[2], wbBlocks});
    }

    static long[] fields(String status) {
        String[] p = status.trim().split("\\s+");
        long[] f = new long[p.length];
        for (int i = 0; i < p.length; i++) {
            f[i] = Long.parseLong(p[i]);
        }
        return f;
    }

    public double requestsPerSecond() {
        return replaySeconds > 0 ? requests / replaySeconds : 0;
    }

    private static double pct(long a, long b) {
        return b == 0 ? 0 : 100.0 * a / b;
    }

    /** The report as a JSON object (top level: requests, verified_reads, mismatches, requests_per_second, …). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trace", trace);
        m.put("format", scan.format);
        m.put("requests", requests);
        m.put("verified_reads", verifiedReads);
        m.put("mismatches", mismatches);
        m.put("requests_per_second", requestsPerSecond());
        m.put("stopped_by", stoppedBy);
        m.put("parse_requests_per_second", scanSeconds > 0 ? scan.records / scanSeconds : 0.0);
        m.put("errors", errors);
        m.put("mode", settings.mode);
        m.put("table", table);
        m.put("origin_bytes", originBytes);
        m.put("origin_model", settings.originModel.toString());
        m.put("cache_bytes", settings.cacheBytes);
        if (settings.cacheShare > 0) {
            m.put("cache_share_of_written_footprint", settings.cacheShare);
            m.put("written_footprint_bytes", scan.writtenFootprintBytes);
        }
        m.put("timing", settings.timing);
        m.put("loops", settings.loops);
        m.put("warmup_requests", warmupRequests);
        m.put("warmup_seconds", warmupSeconds);
        m.put("verify", settings.verify && !settings.noData);
        m.put("data", !settings.noData);
        m.put("bad_lines_skipped", scan.badLines);
        if (scan.firstBad != null) {
            m.put("first_bad_line", scan.firstBad);
        }
        m.put("volume", settings.volume);
        m.put("trace_seconds", scan.lastTimeNs < 0 ? null : scan.lastTimeNs / 1e9);
        Map<String, Object> ops = new LinkedHashMap<>();
        for (TraceRecord.Op op : TraceRecord.Op.values()) {
            long[] c = counts[op.ordinal()];
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("requests", c[0]);
            o.put("bytes", c[1]);
            o.put("blocks", c[1] / settings.blockSize);
            Histogram h = latency.get(op);
            if (h != null && h.getTotalCount() > 0) {
                Map<String, Object> l = new LinkedHashMap<>();
                for (double q : new double[] {50, 90, 99, 99.9}) {
                    l.put("p" + (q == 99.9 ? "99_9" : Integer.toString((int) q)), h.getValueAtPercentile(q) / 1000.0);
                }
                l.put("max", h.getMaxValue() / 1000.0);
                l.put("mean", h.getMean() / 1000.0);
                o.put("latency_us", l);
            }
            ops.put(op.name().toLowerCase(Locale.ROOT), o);
        }
        m.put("ops", ops);
        m.put("latency_sample_every", settings.latencyEvery());
        m.put("latency_samples", latency.values().stream().mapToLong(Histogram::getTotalCount).sum());
        m.put("preflush_requests", preflushes);
        m.put("fua_requests", fuas);
        m.put("unaligned_requests", unaligned);
        m.put("unaligned_policy", settings.unaligned);
        m.put("read_modify_write_reads", rmwReads);
        m.put("unaligned_discards_trimmed", unalignedDiscards);
        m.put("beyond_origin", beyond);
        if (finalStatus != null) {
            long[] f = fields(finalStatus);
            Map<String, Object> st = new LinkedHashMap<>();
            for (int i = 0; i < f.length && i < STATUS_FIELDS.length; i++) {
                st.put(STATUS_FIELDS[i], f[i]);
            }
            m.put("status", st);
            m.put("read_hit_ratio", pct(f[5], f[4]) / 100);
            m.put("write_hit_ratio", pct(f[7] + f[8], f[6]) / 100);
        }
        m.put("writeback_blocks", writebackBlocks);
        m.put("writeback_bytes", writebackBlocks * settings.blockSize);
        m.put("writeback_runs", writebackRuns);
        m.put("final_check_bytes", finalCheckedBytes);
        m.put("mismatch_examples", mismatchExamples);
        m.put("error_examples", errorExamples);
        m.put("kernel_log", kernelLog.size() > 50 ? kernelLog.subList(0, 50) : kernelLog);
        m.put("warnings", warnings);
        m.put("kept_in", keptIn);
        m.put("device_files", deviceFiles);
        if (protection != null) {
            m.put("protection", protection.fields());
        }
        m.put("scan_seconds", scanSeconds);
        m.put("prefault_seconds", Double.isNaN(prefaultSeconds) ? null : prefaultSeconds);
        m.put("replay_seconds", replaySeconds);
        m.put("total_seconds", totalSeconds);
        List<Object> tl = new ArrayList<>();
        for (double[] s : samples) {
            tl.add(List.of(s[0], (long) s[1], s[2], (long) s[3], (long) s[4], (long) s[5]));
        }
        m.put("timeline_columns", List.of("trace_seconds", "requests", "read_hit_percent", "dirty_blocks", "free_blocks",
                "written_back_blocks"));
        m.put("timeline", tl);
        return m;
    }

    public String toJson() {
        return Json.of(toMap());
    }

    /** A self-contained HTML page with the summary and plots (no network needed to view it). */
    public String toHtml() {
        return HtmlReport.render(this);
    }

    /** The human table. */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "trace     %s (%s)%s%n", trace, scan.format,
                settings.loops > 1 ? ", " + settings.loops + " loops" : ""));
        sb.append(String.format(Locale.ROOT, "target    %s   origin %s%s, cache %s%s%n", table, size(originBytes),
                settings.originModel.isThrottled() ? " (model " + settings.originModel + ")" : "", size(settings.cacheBytes),
                settings.cacheShare > 0 ? " (" + Replayer.percent(settings.cacheShare) + " of the " + size(scan.writtenFootprintBytes)
                        + " the trace writes, and the metadata)" : ""));
        sb.append(String.format(Locale.ROOT, "replayed  %d requests in %.2f s = %.0f requests/s (%s, %s%s); "
                + "parsing alone: %.0f requests/s%n", requests, replaySeconds, requestsPerSecond(), settings.timing,
                settings.noData ? "no data" : "data", settings.verify && !settings.noData ? ", verified" : "",
                scanSeconds > 0 ? scan.records / scanSeconds : 0.0));
        if (stoppedBy != null) {
            sb.append(String.format(Locale.ROOT, "stopped   by %s after %d of the %d requests: every figure below covers those%s%n",
                    stoppedBy, warmupRequests + requests, scan.records, settings.verify && !settings.noData
                            ? "; the final check still ran" : ""));
        }
        if (warmupRequests > 0) {
            sb.append(String.format(Locale.ROOT, "warm-up   the first %d requests (%.2f s), then clear_stats: every figure below "
                    + "is after them (verification covers all)%n", warmupRequests, warmupSeconds));
        }
        if (!Double.isNaN(prefaultSeconds)) {
            sb.append(String.format(Locale.ROOT, "prefault  the devices' pages faulted in before the replay, in %.2f s (not in the rate)%n",
                    prefaultSeconds));
        }
        sb.append(String.format(Locale.ROOT, "%n%-9s %12s %14s %10s %10s %10s %10s%n", "op", "requests", "bytes", "p50 µs",
                "p99 µs", "p99.9 µs", "max µs"));
        int every = settings.latencyEvery();
        String timed = every == 1 ? "" : String.format(Locale.ROOT,
                "          latencies from one request in %d, chosen at random (%d timed; --latency-every 1 times all)%n", every,
                latency.values().stream().mapToLong(Histogram::getTotalCount).sum());
        for (TraceRecord.Op op : TraceRecord.Op.values()) {
            long[] c = counts[op.ordinal()];
            Histogram h = latency.get(op);
            boolean any = h != null && h.getTotalCount() > 0;
            sb.append(String.format(Locale.ROOT, "%-9s %12d %14s %10s %10s %10s %10s%n", op.name().toLowerCase(Locale.ROOT),
                    c[0], size(c[1]), any ? us(h.getValueAtPercentile(50)) : "-", any ? us(h.getValueAtPercentile(99)) : "-",
                    any ? us(h.getValueAtPercentile(99.9)) : "-", any ? us(h.getMaxValue()) : "-"));
        }
        sb.append(timed);
        sb.append(String.format(Locale.ROOT, "          PREFLUSH %d, FUA %d; unaligned %d (%s, %d read-modify-write reads), "
                + "unaligned discards trimmed %d, beyond the origin %d%n", preflushes, fuas, unaligned, settings.unaligned,
                rmwReads, unalignedDiscards, beyond));
        if (finalStatus != null) {
            long[] f = fields(finalStatus);
            sb.append(String.format(Locale.ROOT, "%ncache     %d blocks, %d free, %d under writeback; error %d%n", f[1], f[2], f[3], f[0]));
            sb.append(String.format(Locale.ROOT, "reads     %d blocks, %d hits (%.1f%%)%n", f[4], f[5], pct(f[5], f[4])));
            sb.append(String.format(Locale.ROOT, "writes    %d blocks: hits %d uncommitted + %d committed (%.1f%%), around %d, "
                    + "allocated %d, blocked on freelist %d%n", f[6], f[7], f[8], pct(f[7] + f[8], f[6]), f[9], f[10], f[11]));
            sb.append(String.format(Locale.ROOT, "flushes   %d, discards %d blocks%n", f[12], f[13]));
            sb.append(String.format(Locale.ROOT, "writeback %d blocks (%s) in %d origin writes (%.1f blocks each)%n",
                    writebackBlocks, size(writebackBlocks * settings.blockSize), writebackRuns,
                    writebackRuns == 0 ? 0.0 : (double) writebackBlocks / writebackRuns));
            sb.append("status    ").append(finalStatus).append('\n');
        }
        if (protection != null) {
            sb.append("protection ").append(protection.describe()).append('\n');
        }
        if (scan.badLines > 0) {
            sb.append(String.format(Locale.ROOT, "bad lines skipped: %d (first: %s)%n", scan.badLines, scan.firstBad));
        }
        if (settings.verify && !settings.noData) {
            sb.append(String.format(Locale.ROOT, "%nverify    %d reads checked, final check of %s after writeback: %d mismatches%n",
                    verifiedReads, size(finalCheckedBytes), mismatches));
            mismatchExamples.forEach(e -> sb.append("  MISMATCH ").append(e).append('\n'));
        }
        if (errors > 0) {
            sb.append(String.format(Locale.ROOT, "errors    %d requests failed%s%n", errors,
                    errors > errorExamples.size() ? " (the first " + errorExamples.size() + " below)" : ""));
        }
        errorExamples.forEach(e -> sb.append("  ERROR ").append(e).append('\n'));
        warnings.forEach(w -> sb.append("warning   ").append(w).append('\n'));
        if (keptIn != null) {
            sb.append("devices kept in ").append(keptIn).append('\n');
        }
        if (deviceFiles != null) {
            sb.append("devices   ").append(deviceFiles).append(" (left as the replay ended, the target suspended: committed)\n");
        }
        return sb.toString();
    }

    private static String us(long ns) {
        return String.format(Locale.ROOT, "%.1f", ns / 1000.0);
    }

    /** Bytes for people: "4.0 KiB", "95.5 MiB", "1.2 GiB". */
    public static String size(long b) {
        if (b >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", b / (double) (1L << 30));
        }
        if (b >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
        }
        if (b >= 1L << 10) {
            return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        }
        return b + " B";
    }
}
