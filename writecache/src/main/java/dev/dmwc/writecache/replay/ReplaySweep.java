package dev.dmwc.writecache.replay;

import dev.dmwc.writecache.cli.Json;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.trace.TraceFormatException;
import dev.dmwc.writecache.trace.TraceRecord;
import dev.dmwc.writecache.trace.Traces;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import org.HdrHistogram.Histogram;

/**
 * One trace replayed on several caches, one after another, each on fresh devices: every
 * combination of modes, cache sizes, block sizes and table features. This is what a user sizing a
 * cache asks: how the hit ratios, the write-back and the stalls on a full cache change with it. The
 * trace's files are read once and kept in memory for every run (a {@link Traces.Memo}).
 *
 * <p>A run the target or the replay refuses (a table the kernel would not take, devices that do not
 * fit the work directory) is a row saying why, and the sweep goes on; a malformed trace stops it,
 * since every run would read the same lines.
 */
public final class ReplaySweep {
    /** One combination: its settings, and its report or why it did not run. */
    public static final class Run {
        public final Replayer.Settings settings;
        public ReplayReport report;
        public String refused;

        Run(Replayer.Settings settings) {
            this.settings = settings;
        }

        String features() {
            return settings.features.isEmpty() ? "-" : String.join(" ", settings.features);
        }

        /** The cache's size; for a share of the footprint, the share and (once the scan has sized it) the size. */
        String cache() {
            if (settings.cacheShare <= 0) {
                return ReplayReport.size(settings.cacheBytes);
            }
            String share = Replayer.percent(settings.cacheShare);
            return settings.cacheBytes == 0 ? share : share + " " + ReplayReport.size(settings.cacheBytes);
        }
    }

    /** A cache size in bytes, or (share above 0) a share of the trace's written footprint. */
    public record CacheSize(long bytes, double share) {
        public static CacheSize bytes(long bytes) {
            return new CacheSize(bytes, 0);
        }

        public static CacheSize share(double share) {
            return new CacheSize(0, share);
        }
    }

    private final List<Path> trace;
    private final List<Run> runs = new ArrayList<>();
    /** The combinations asked for; {@link #runs} has fewer when a stop came. */
    private int planned;
    /** What stopped the sweep early ({@link StopRequest}), or null. */
    public String stoppedBy;

    private ReplaySweep(List<Path> trace) {
        this.trace = List.copyOf(trace);
    }

    /**
     * Every combination, in this order: mode, then cache size, then block size, then features (the
     * last varies fastest). Each is a copy of {@code base} sharing one memo of the trace.
     */
    public static List<Replayer.Settings> combinations(Replayer.Settings base, List<String> modes, List<CacheSize> cacheSizes,
            List<Integer> blockSizes, List<List<String>> features) {
        Traces.Memo memo = base.memo != null ? base.memo : new Traces.Memo();
        List<Replayer.Settings> out = new ArrayList<>();
        for (String mode : modes) {
            for (CacheSize size : cacheSizes) {
                for (int bs : blockSizes) {
                    for (List<String> f : features) {
                        Replayer.Settings s = base.copy();
                        s.mode = mode;
                        s.cacheBytes = size.bytes();
                        s.cacheShare = size.share();
                        s.blockSize = bs;
                        s.features = List.copyOf(f);
                        s.memo = memo;
                        out.add(s);
                    }
                }
            }
        }
        return out;
    }

    /**
     * Replay {@code trace} once per settings. {@code progress} gets the run's number (from 1) and
     * the run count, and returns where that run reports its progress.
     */
    public static ReplaySweep run(Path trace, Traces.Options options, List<Replayer.Settings> settings,
            BiFunction<Integer, Integer, Replayer.Progress> progress) throws IOException, TraceFormatException {
        return run(List.of(trace), options, settings, progress);
    }

    /** {@link #run(Path, Traces.Options, List, BiFunction)} of several files replayed as one trace. */
    public static ReplaySweep run(List<Path> trace, Traces.Options options, List<Replayer.Settings> settings,
            BiFunction<Integer, Integer, Replayer.Progress> progress) throws IOException, TraceFormatException {
        ReplaySweep sweep = new ReplaySweep(trace);
        sweep.planned = settings.size();
        for (Replayer.Settings s : settings) {
            if (s.stop != null && s.stop.requested()) {
                sweep.stoppedBy = s.stop.by(); // the runs not begun are left out
                break;
            }
            Run run = new Run(s);
            sweep.runs.add(run);
            try {
                run.report = new Replayer(trace, options, s, progress.apply(sweep.runs.size(), settings.size())).run();
                if (run.report.stoppedBy != null) {
                    sweep.stoppedBy = run.report.stoppedBy;
                    break;
                }
            } catch (Replayer.ReplayException | IllegalArgumentException e) {
                if (s.stop != null && s.stop.requested()) { // stopped while it read the trace: it never began
                    sweep.runs.remove(run);
                    sweep.stoppedBy = s.stop.by();
                    break;
                }
                run.refused = e.getMessage();
            } catch (DmError e) {
                run.refused = "the table was refused: " + e.getMessage();
            }
        }
        return sweep;
    }

    public List<Run> runs() {
        return runs;
    }

    public String trace() {
        return Replayer.name(trace);
    }

    /** A self-contained HTML page: the table, and the replay's plots with one line a run. */
    public String toHtml() {
        return HtmlReport.render(this);
    }

    /** Whether every run was refused, and for the same reason (then the reason is the trace's or the options'). */
    public String sameRefusalEverywhere() {
        String first = runs.isEmpty() ? null : runs.get(0).refused;
        for (Run r : runs) {
            if (r.refused == null || !r.refused.equals(first)) {
                return null;
            }
        }
        return first;
    }

    public long refusedRuns() {
        return runs.stream().filter(r -> r.refused != null).count();
    }

    /** Runs whose check found a mismatch or a request that failed. */
    public long failedRuns() {
        return runs.stream().filter(r -> r.report != null && (r.report.mismatches > 0 || r.report.errors > 0)).count();
    }

    /** The human table: one row a run. */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        ReplayReport any = runs.stream().map(r -> r.report).filter(r -> r != null).findFirst().orElse(null);
        sb.append(String.format(Locale.ROOT, "trace     %s%s; %d runs, each on fresh devices%s%n", trace(),
                any == null ? "" : " (" + any.scan.format + "), " + any.scan.records + " requests", runs.size(),
                runs.get(0).settings.originModel.isThrottled() ? ", the origin model " + runs.get(0).settings.originModel : ""));
        boolean verify = runs.get(0).settings.verify && !runs.get(0).settings.noData;
        sb.append(String.format(Locale.ROOT, "%n%3s %-4s %16s %5s %9s %10s %9s %9s %12s %10s %12s%s  %s%n", "run", "mode", "cache",
                "block", "read hits", "write hits", "around", "blocked", "written back", "requests/s", "write p99 µs",
                verify ? " mismatches" : "", "features"));
        int n = 0;
        for (Run r : runs) {
            n++;
            String head = String.format(Locale.ROOT, "%3d %-4s %16s %5d", n, r.settings.mode, r.cache(), r.settings.blockSize);
            if (r.refused != null) {
                sb.append(head).append("  ").append(r.features()).append(": refused: ").append(r.refused).append('\n');
                continue;
            }
            ReplayReport rep = r.report;
            long[] f = ReplayReport.fields(rep.finalStatus);
            Histogram w = rep.latency.get(TraceRecord.Op.WRITE);
            sb.append(head).append(String.format(Locale.ROOT, " %8.1f%% %9.1f%% %9d %9d %12s %10.0f %12s%s  %s%n",
                    pct(f[5], f[4]), pct(f[7] + f[8], f[6]), f[9], f[11], ReplayReport.size(rep.writebackBlocks * r.settings.blockSize),
                    rep.requestsPerSecond(), w == null || w.getTotalCount() == 0 ? "-"
                            : String.format(Locale.ROOT, "%.1f", w.getValueAtPercentile(99) / 1000.0),
                    verify ? String.format(Locale.ROOT, " %10d", rep.mismatches) : "", r.features()));
        }
        if (stoppedBy != null) {
            Run last = runs.get(runs.size() - 1);
            sb.append(String.format(Locale.ROOT, "stopped by %s: %d of the %d runs began%s%n", stoppedBy, runs.size(), planned,
                    last.report != null && last.report.stoppedBy != null ? ", the last stopped part way (" + (last.report.warmupRequests
                            + last.report.requests) + " of " + last.report.scan.records + " requests)" : ""));
        }
        sb.append(String.format(Locale.ROOT, "%nhits are of blocks (dmsetup status); around: blocks written around a full cache "
                + "to the origin; blocked: writes that waited for a free block; written back: to the origin during the replay%n"));
        n = 0;
        for (Run r : runs) {
            n++;
            if (r.report == null) {
                continue;
            }
            for (String w : r.report.warnings) {
                sb.append(String.format(Locale.ROOT, "warning   run %d: %s%n", n, w));
            }
            for (String m : r.report.mismatchExamples) {
                sb.append(String.format(Locale.ROOT, "  MISMATCH run %d: %s%n", n, m));
            }
            for (String e : r.report.errorExamples) {
                sb.append(String.format(Locale.ROOT, "  ERROR run %d: %s%n", n, e));
            }
            if (r.report.keptIn != null) {
                sb.append(String.format(Locale.ROOT, "run %d: devices kept in %s%n", n, r.report.keptIn));
            }
        }
        return sb.toString();
    }

    private static double pct(long a, long b) {
        return b == 0 ? 0 : 100.0 * a / b;
    }

    /** One replay as a sweep of one run (for its CSV row). */
    public static ReplaySweep single(List<Path> trace, Replayer.Settings settings, ReplayReport report) {
        ReplaySweep sweep = new ReplaySweep(trace);
        sweep.planned = 1;
        sweep.stoppedBy = report.stoppedBy;
        Run run = new Run(settings);
        run.report = report;
        sweep.runs.add(run);
        return sweep;
    }

    /** The CSV header of {@link #toCsv}. */
    static final String CSV_HEADER = "run,mode,cache_bytes,cache_share,block_size,features,read_hit_ratio,write_hit_ratio,"
            + "writes_around,writes_blocked_on_freelist,writeback_bytes,requests_per_second,write_p99_us,mismatches,refused";

    /** One row a run (RFC 4180: a field with a comma or quote is quoted), for a spreadsheet or a plot. */
    public String toCsv() {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        int n = 0;
        for (Run r : runs) {
            n++;
            List<String> f = new ArrayList<>();
            f.add(Integer.toString(n));
            f.add(r.settings.mode);
            f.add(r.settings.cacheBytes == 0 ? "" : Long.toString(r.settings.cacheBytes));
            f.add(r.settings.cacheShare > 0 ? Double.toString(r.settings.cacheShare) : "");
            f.add(Integer.toString(r.settings.blockSize));
            f.add(String.join(" ", r.settings.features));
            if (r.report == null) {
                for (int i = 0; i < 8; i++) {
                    f.add("");
                }
                f.add(r.refused);
            } else {
                long[] st = ReplayReport.fields(r.report.finalStatus);
                Histogram w = r.report.latency.get(TraceRecord.Op.WRITE);
                f.add(st[4] == 0 ? "" : String.format(Locale.ROOT, "%.6f", (double) st[5] / st[4]));
                f.add(st[6] == 0 ? "" : String.format(Locale.ROOT, "%.6f", (double) (st[7] + st[8]) / st[6]));
                f.add(Long.toString(st[9]));
                f.add(Long.toString(st[11]));
                f.add(Long.toString(r.report.writebackBlocks * r.settings.blockSize));
                f.add(String.format(Locale.ROOT, "%.1f", r.report.requestsPerSecond()));
                f.add(w == null || w.getTotalCount() == 0 ? "" : String.format(Locale.ROOT, "%.1f", w.getValueAtPercentile(99) / 1000.0));
                f.add(Long.toString(r.report.mismatches));
                f.add("");
            }
            for (int i = 0; i < f.size(); i++) {
                String v = f.get(i);
                sb.append(i == 0 ? "" : ",").append(v.contains(",") || v.contains("\"") || v.contains("\n")
                        ? "\"" + v.replace("\"", "\"\"") + "\"" : v);
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** {@code {"trace", "runs": [{"mode", "cache_bytes", "block_size", "features", "report" | "refused"}]}}. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trace", trace());
        List<Object> list = new ArrayList<>();
        for (Run r : runs) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("mode", r.settings.mode);
            o.put("cache_bytes", r.settings.cacheBytes);
            if (r.settings.cacheShare > 0) {
                o.put("cache_share_of_written_footprint", r.settings.cacheShare);
            }
            o.put("block_size", r.settings.blockSize);
            o.put("features", r.settings.features);
            if (r.refused != null) {
                o.put("refused", r.refused);
            } else {
                o.put("report", r.report.toMap());
            }
            list.add(o);
        }
        m.put("runs", list);
        m.put("planned_runs", planned);
        m.put("stopped_by", stoppedBy);
        return Json.of(m);
    }
}
