package dev.dmwc.writecache.cli;

import dev.dmwc.writecache.trace.SelectedReader;
import dev.dmwc.writecache.trace.TraceFormatException;
import dev.dmwc.writecache.trace.TraceReader;
import dev.dmwc.writecache.trace.TraceRecord;
import dev.dmwc.writecache.trace.Traces;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.zip.GZIPOutputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "trace", mixinStandardHelpOptions = true, description = "Look at and convert block traces without replaying them.",
        subcommands = {TraceCommand.Stats.class, TraceCommand.Convert.class})
final class TraceCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static TraceReader open(Path trace, String format, String events) throws IOException, TraceFormatException {
        return open(List.of(trace), format, events);
    }

    /** Several files read as one trace, as replay reads them ({@link Traces#open(List, Traces.Options, Traces.Memo)}). */
    static TraceReader open(List<Path> traces, String format, String events) throws IOException, TraceFormatException {
        List<Path> resolved = TraceInput.resolveAll(traces);
        try {
            return Traces.open(resolved, new Traces.Options(format, events), null);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
    }

    /** Which records of a trace to take: one volume, malformed lines tolerated (as replay's options of these names). */
    static final class Selection {
        @Option(names = "--volume", paramLabel = "ID", description = "Only this volume of a multi-volume trace (device, file or volume id).")
        String volume;

        @Option(names = "--skip-bad", paramLabel = "N", defaultValue = "0", description = "Tolerate up to N malformed lines (counted). Default: ${DEFAULT-VALUE}")
        long skipBad;

        SelectedReader open(List<Path> traces, TraceInput input, picocli.CommandLine.Model.CommandSpec spec) throws IOException, TraceFormatException {
            Checks.atLeast(spec, "--skip-bad", skipBad, 0);
            return new SelectedReader(TraceCommand.open(traces, input.format, input.events), volume, skipBad);
        }

        /** Refuses a --volume the trace does not have, naming those it has. */
        void checkVolume(SelectedReader in) {
            if (volume != null && !in.volumesSeen().containsKey(volume)) {
                throw new Main.UsageError("no volume '" + volume + "' in the trace (it has: " + String.join(", ",
                        in.volumesSeen().keySet().stream().limit(10).toList()) + (in.volumesSeen().size() > 10 ? ", …" : "") + ")");
            }
        }

        static String skipped(SelectedReader in) {
            return in.badLines() == 0 ? null : "bad lines skipped: " + in.badLines() + " (first: " + in.firstBad() + ")";
        }
    }

    private static void deletePart(Path part) throws IOException {
        if (part != null) {
            dev.dmwc.writecache.block.ScratchFiles.delete(part);
        }
    }

    @Command(name = "stats", mixinStandardHelpOptions = true,
            description = "Summarise a trace: requests and bytes by op, flags, volumes, extent, time span, sizes, alignment, "
                    + "and its footprint (distinct 4 KiB pages written, read, either: what a cache would need to hold it).")
    static final class Stats implements Callable<Integer> {
        @Parameters(index = "0..*", arity = "1..*", paramLabel = "TRACE",
                description = "The trace file (blktrace per-CPU files: any one of them, or their directory; '-': standard input); "
                        + "several are one trace, "
                        + "one after another, as replay reads them.")
        List<Path> traces;

        @Mixin
        TraceInput input;

        @Mixin
        Selection selection;

        @Option(names = "--json", description = "Print JSON instead of the table.")
        boolean json;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Map<TraceRecord.Op, long[]> ops = new EnumMap<>(TraceRecord.Op.class);
            Map<String, Long> volumes = new TreeMap<>();
            Map<Long, Long> sizes = new TreeMap<>();
            long n = 0;
            long extent = 0;
            long last = -1;
            long preflush = 0;
            long fua = 0;
            long aligned4k = 0;
            long withData = 0;
            dev.dmwc.writecache.replay.TouchedPages written = new dev.dmwc.writecache.replay.TouchedPages();
            dev.dmwc.writecache.replay.TouchedPages read = new dev.dmwc.writecache.replay.TouchedPages();
            String fmt;
            long badLines;
            String firstBad;
            try (SelectedReader in = selection.open(traces, input, spec)) {
                fmt = in.format();
                TraceRecord r = new TraceRecord();
                while (in.next(r)) {
                    n++;
                    long[] c = ops.computeIfAbsent(r.op, k -> new long[2]);
                    c[0]++;
                    c[1] += r.length;
                    if (r.op != TraceRecord.Op.FLUSH) {
                        extent = Math.max(extent, r.offset + r.length);
                        sizes.merge(Long.highestOneBit(Math.max(1, r.length)), 1L, Long::sum);
                    }
                    if (r.op == TraceRecord.Op.READ || r.op == TraceRecord.Op.WRITE) {
                        (r.op == TraceRecord.Op.WRITE ? written : read).add(r.offset, r.length);
                        withData++;
                        if (r.offset % 4096 == 0 && r.length % 4096 == 0) {
                            aligned4k++;
                        }
                    }
                    preflush += r.has(TraceRecord.PREFLUSH) ? 1 : 0;
                    fua += r.has(TraceRecord.FUA) ? 1 : 0;
                    last = Math.max(last, r.timeNs);
                }
                selection.checkVolume(in);
                volumes.putAll(in.volumesSeen());
                badLines = in.badLines();
                firstBad = in.firstBad();
            } catch (TraceFormatException e) {
                throw new Main.UsageError("malformed trace: " + e.getMessage());
            }
            Map<String, Object> m = new LinkedHashMap<>();
            String trace = dev.dmwc.writecache.replay.Replayer.name(traces);
            m.put("trace", trace);
            m.put("format", fmt);
            m.put("requests", n);
            Map<String, Object> o = new LinkedHashMap<>();
            for (var e : ops.entrySet()) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("requests", e.getValue()[0]);
                c.put("bytes", e.getValue()[1]);
                o.put(e.getKey().name().toLowerCase(Locale.ROOT), c);
            }
            m.put("ops", o);
            m.put("preflush", preflush);
            m.put("fua", fua);
            m.put("aligned_4k_with_data", aligned4k);
            m.put("with_data", withData);
            m.put("extent_bytes", extent);
            Map<String, Object> footprint = new LinkedHashMap<>();
            footprint.put("written", written.bytes());
            footprint.put("read", read.bytes());
            footprint.put("either", written.bytesWith(read));
            m.put("footprint_bytes", footprint);
            m.put("seconds", last < 0 ? null : last / 1e9);
            m.put("volumes", volumes);
            m.put("volume", selection.volume);
            m.put("bad_lines_skipped", badLines);
            m.put("first_bad_line", firstBad);
            Map<String, Long> sz = new LinkedHashMap<>();
            sizes.forEach((k, v) -> sz.put(k + "+", v));
            m.put("size_histogram_bytes", sz);
            if (json) {
                System.out.print(Json.of(m));
                return 0;
            }
            System.out.printf(Locale.ROOT, "%s (%s)%s: %d requests over %s, extent %d bytes%n", trace, fmt,
                    selection.volume == null ? "" : ", volume " + selection.volume, n,
                    last < 0 ? "no time" : String.format(Locale.ROOT, "%.3f s", last / 1e9), extent);
            for (var e : ops.entrySet()) {
                System.out.printf(Locale.ROOT, "  %-8s %10d requests %16d bytes%n", e.getKey().name().toLowerCase(Locale.ROOT),
                        e.getValue()[0], e.getValue()[1]);
            }
            System.out.printf(Locale.ROOT, "  PREFLUSH %d, FUA %d; 4 KiB-aligned %d of %d with data%n", preflush, fua, aligned4k, withData);
            System.out.printf(Locale.ROOT, "  footprint (distinct 4 KiB pages): written %s, read %s, either %s%n",
                    dev.dmwc.writecache.replay.ReplayReport.size(written.bytes()),
                    dev.dmwc.writecache.replay.ReplayReport.size(read.bytes()),
                    dev.dmwc.writecache.replay.ReplayReport.size(written.bytesWith(read)));
            System.out.printf(Locale.ROOT, "  volumes (requests, all of them): %s%n", volumes);
            if (badLines > 0) {
                System.out.printf(Locale.ROOT, "  bad lines skipped: %d (first: %s)%n", badLines, firstBad);
            }
            System.out.printf(Locale.ROOT, "  sizes (power-of-two buckets, bytes): %s%n", sz);
            return 0;
        }
    }

    @Command(name = "convert", mixinStandardHelpOptions = true,
            description = {"Convert a trace to fio iolog v3 (µs timestamps; PREFLUSH becomes a 'sync' line before the write, FUA "
                + "a 'datasync' after it), so it can be replayed with fio --read_iolog against an NBD export. OUT "
                + "ending in .gz is compressed.",
                "Or (--to wcs, or OUT ending in .wcs) to a WCSCRIPT: each request the op that sends the same bio (PREFLUSH a "
                + "'flush' before it, FUA the write's 'fua'), the trace's times dropped, then a write-back of everything "
                + "('message flush', 'settle') between two 'status' lines, and 'remove'. 'dmwc script' runs it, and so does the "
                + "kernel oracle's runscript.sh on the real dm-writecache: compare the two."})
    static final class Convert implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "TRACE", description = "The trace file (blktrace per-CPU files: any one of them, or their directory; "
                + "'-': standard input).")
        Path trace;

        @Parameters(index = "1", paramLabel = "OUT", description = "The fio log or WCSCRIPT to write ('-': standard output, after a first reading of the whole trace, so that a bad line "
                + "writes nothing there; ending in .gz: compressed).")
        Path out;

        @Option(names = "--to", paramLabel = "fio3|wcs", description = "Output format: fio3 (fio iolog v3) or wcs (WCSCRIPT). "
                + "Default: wcs when OUT ends in .wcs (or .wcs.gz), else fio3")
        String to;

        @Option(names = "--table", paramLabel = "ARGS", description = "wcs: the writecache arguments without the devices, MODE "
                + "BLOCK_SIZE NFEAT [FEATURE...], or the features alone (the mode then '@', which the runner's --mode sets, and "
                + "4096), checked as the target checks it at create (an '@' table in both modes) before anything is written. "
                + "Default: '" + DEFAULT_FEATURES + "' (the 1 s commit timer would fire at times the script does not fix)")
        String table;

        @Option(names = "--origin-size", paramLabel = "SIZE", description = "wcs: the origin device. Default: the trace's extent, "
                + "rounded up to 1 MiB")
        String originSize;

        @Option(names = "--cache-size", paramLabel = "SIZE|N%", description = "wcs: the cache device, or N%% of the trace's written "
                + "footprint (its distinct 4 KiB pages written, the metadata added). Default: 250%% (the default high watermark is "
                + "not reached, so no write-back runs in the background at times the script does not fix; with a smaller cache, "
                + "give an ssd table 'pause_writeback 0': its default holds write-back back until 3 s after the last flush or "
                + "write-around, which the kernel's clock reaches as the oracle's runner works and a dmwc script's only at a sleep)")
        String cacheSize;

        @Option(names = "--requests", paramLabel = "N", defaultValue = "0", description = "Only the first N requests (0: all). "
                + "Default: ${DEFAULT-VALUE}")
        long requests;

        @Option(names = "--split-reads", description = "wcs: a read as one read a cache block (Linux 6.1 in pmem mode answers a "
                + "read of several blocks wrongly: test-data/kernel-bugs/pmem-read-hits-then-misses)")
        boolean splitReads;

        @Option(names = "--max-write", paramLabel = "SIZE", defaultValue = "1M", description = "wcs: a longer write as several "
                + "of at most SIZE, each with the write's tag and FUA (0: never). Beyond 1 MiB (256 pages), the oracle's O_DIRECT write "
                + "reaches the target as one bio or several, as its buffer's pages happen to lie in memory, and each bio ends with "
                + "its own commit check. Default: ${DEFAULT-VALUE}")
        String maxWrite;

        static final String DEFAULT_FEATURES = "autocommit_time 3600000";

        @Mixin
        TraceInput input;

        @Mixin
        Selection selection;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--file-name", paramLabel = "NAME", defaultValue = "dmwc",
                description = "The file name in the log (fio opens it unless --replay_redirect). Default: ${DEFAULT-VALUE}")
        String fileName;

        @Override
        public Integer call() throws Exception {
            String format = to != null ? to : out.toString().matches(".*\\.wcs(\\.gz)?") ? "wcs" : "fio3";
            if (!format.equals("fio3") && !format.equals("wcs")) {
                throw new Main.UsageError("--to: fio3 or wcs, not '" + to + "'");
            }
            List<String> others = TableArgs.given(spec.commandLine().getParseResult(), format.equals("wcs")
                    ? new String[] {"--file-name"} : new String[] {"--table", "--origin-size", "--cache-size", "--split-reads", "--max-write"});
            if (!others.isEmpty()) {
                throw new Main.UsageError(String.join(", ", others) + ": not for --to " + format);
            }
            Checks.atLeast(spec, "--requests", requests, 0);
            boolean toStdout = out.toString().equals("-");
            Path parent = out.toAbsolutePath().getParent();
            if (!toStdout && (parent == null || !Files.isDirectory(parent))) {
                throw new Main.UsageError("cannot write " + out + ": no directory " + parent);
            }
            if (Files.isDirectory(out)) {
                throw new Main.UsageError("cannot write " + out + ": it is a directory");
            }
            trace = TraceInput.resolve(trace); // once: '-' (standard input) is read once, and the log may take two readings
            // OUT is written aside and renamed at the end, so a malformed line or a Ctrl-C leaves it as it was; standard
            // output cannot be taken back, so the trace is read through once before anything is written there
            Path tmp = toStdout ? null : dev.dmwc.writecache.block.ScratchFiles.register(out.resolveSibling(out.getFileName() + ".part"));
            Converted done;
            try {
                ScriptPlan plan = format.equals("wcs") ? planScript() : null;
                if (toStdout && plan == null) {
                    writeLog(java.io.Writer.nullWriter());
                }
                try (OutputStream raw = toStdout ? new java.io.FilterOutputStream(System.out) {
                            @Override
                            public void write(byte[] b, int off, int len) throws Main.OutputError {
                                System.out.write(b, off, len);
                                if (System.out.checkError()) { // stop at once: the rest of a long log would go nowhere
                                    throw new Main.OutputError(Main.OutputError.STDOUT);
                                }
                            }

                            @Override
                            public void close() {
                                System.out.flush(); // stdout stays open
                            }
                        } : Files.newOutputStream(tmp);
                        OutputStream o = out.toString().endsWith(".gz") ? new GZIPOutputStream(raw, 1 << 16) : raw;
                        BufferedWriter w = new BufferedWriter(new OutputStreamWriter(o, StandardCharsets.UTF_8), 1 << 16)) {
                    done = plan == null ? writeLog(w) : writeScript(plan, w);
                }
            } catch (TraceFormatException e) {
                deletePart(tmp);
                throw new Main.UsageError("malformed trace: " + e.getMessage());
            } catch (RuntimeException | java.io.IOException e) {
                deletePart(tmp);
                throw e;
            }
            long n = done.requests();
            String skipped = done.skipped();
            java.io.PrintStream say = toStdout ? System.err : System.out; // with the log on stdout, the summary goes aside
            if (!toStdout) {
                Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                dev.dmwc.writecache.block.ScratchFiles.keep(tmp); // renamed: nothing left to remove
            }
            say.printf("%s: %d requests written as %s%s%n", toStdout ? "stdout" : out, n,
                    format.equals("wcs") ? "a WCSCRIPT" : "fio iolog v3", selection.volume == null ? "" : " (volume " + selection.volume + ")");
            if (skipped != null) {
                say.println(skipped);
            }
            if (done.empty() > 0) {
                say.printf("%d requests without data have no op (a PREFLUSH among them is a flush)%n", done.empty());
            }
            if (done.note() != null) {
                say.println(done.note());
            }
            return 0;
        }

        /**
         * @param empty requests a WCSCRIPT has no op for (no data; a PREFLUSH of one became a flush)
         * @param note what the user should know about the script, or null
         */
        private record Converted(long requests, String skipped, long empty, String note) {
        }

        /** A WCSCRIPT's settings, from the options and a first reading of the trace; {@code note} as in {@link Converted}. */
        private record ScriptPlan(dev.dmwc.writecache.script.TraceScript.Settings settings, List<String> header, String note) {
        }

        /** Reads the trace once for what the script's devices need; refuses a request no op can send, and sizes that do not fit. */
        private ScriptPlan planScript() throws IOException, TraceFormatException {
            TableArgs t = TableArgs.parse(table == null ? DEFAULT_FEATURES : table, "--table");
            int bs = t.full() ? t.blockSize() : 4096;
            dev.dmwc.writecache.script.TraceScript.Scan scan;
            String fmt;
            try (SelectedReader in = selection.open(List.of(trace), input, spec)) {
                fmt = in.format();
                scan = dev.dmwc.writecache.script.TraceScript.scan(in, Traces.shown(trace), requests);
                if (selection.volume == null && in.severalVolumes()) {
                    throw new Main.UsageError("the trace has more than one volume (" + String.join(", ", in.volumesSeen().keySet())
                            + ", …); a script has one origin: convert one with --volume ID (trace stats lists them)");
                }
                selection.checkVolume(in);
            }
            final long mib = 1 << 20;
            long origin = originSize == null ? Math.max(mib, (scan.extent + mib - 1) / mib * mib) : Sizes.parse(originSize, "--origin-size");
            if (origin % 4096 != 0 || origin < scan.extent) {
                throw new Main.UsageError("--origin-size " + originSize + ": the origin is a whole number of 4 KiB and holds the "
                        + "trace's extent, " + scan.extent + " bytes");
            }
            String c = cacheSize == null ? "250%" : cacheSize.trim();
            long cache;
            if (c.endsWith("%")) {
                double share = ReplayCommand.footprintShare(c);
                long bytes = 0; // a trace that writes nothing: the smallest cache below
                if (scan.written.bytes() > 0) {
                    try {
                        bytes = dev.dmwc.writecache.replay.Replayer.cacheBytesForShare(scan.written.bytes(), share, bs);
                    } catch (dev.dmwc.writecache.replay.Replayer.ReplayException e) {
                        throw new Main.UsageError(e.getMessage());
                    }
                }
                cache = Math.max(4 * mib, (bytes + mib - 1) / mib * mib);
            } else {
                cache = Sizes.parse(c, "--cache-size");
                if (cache % 4096 != 0) {
                    throw new Main.UsageError("--cache-size " + c + ": a WCSCRIPT device is a whole number of 4 KiB");
                }
            }
            long maxWriteBytes = maxWrite.trim().equals("0") ? 0 : Sizes.parse(maxWrite, "--max-write");
            if (maxWriteBytes % bs != 0) {
                throw new Main.UsageError("--max-write " + maxWrite + ": a whole number of the table's " + bs + "-byte blocks, or 0");
            }
            var settings = new dev.dmwc.writecache.script.TraceScript.Settings(t.mode(), bs, t.features(), origin, cache, requests,
                    splitReads, maxWriteBytes >> 9);
            String refusal = dev.dmwc.writecache.script.TraceScript.tableRefusal(settings);
            if (refusal != null) {
                throw new Main.UsageError("--table '" + (table == null ? DEFAULT_FEATURES : table.trim()) + "': " + refusal
                        + "; a script with it would fail at create");
            }
            List<String> header = List.of("a WCSCRIPT of " + Traces.shown(trace) + " (" + fmt + ")"
                    + (selection.volume == null ? "" : ", volume " + selection.volume) + ": "
                    + (requests == 0 ? "all its " + scan.requests + " requests" : "its first " + scan.requests + " requests")
                    + ", by dmwc trace convert",
                    "the trace's times are dropped: the ops run one after another (dmwc script; the oracle's runscript.sh)",
                    "written footprint " + dev.dmwc.writecache.replay.ReplayReport.size(scan.written.bytes()) + ", extent "
                            + scan.extent + " bytes" + (splitReads ? "; reads split into one a cache block" : "")
                            + (maxWriteBytes == 0 ? "" : "; writes over " + maxWrite + " split (each part one bio on the kernel)"));
            return new ScriptPlan(settings, header, dev.dmwc.writecache.script.TraceScript.timingNote(settings, scan.written.bytes()));
        }

        private Converted writeScript(ScriptPlan plan, java.io.Writer w) throws IOException, TraceFormatException {
            try (SelectedReader in = selection.open(List.of(trace), input, spec)) {
                var done = dev.dmwc.writecache.script.TraceScript.write(in, plan.settings(), plan.header(), w);
                return new Converted(done.requests(), Selection.skipped(in), done.emptyRequests(), plan.note());
            }
        }

        /** Reads the trace once, writing its fio log to {@code w}; refuses what a log cannot hold before the end. */
        private Converted writeLog(java.io.Writer w) throws IOException, TraceFormatException {
            long n = 0;
            try (SelectedReader in = selection.open(List.of(trace), input, spec)) {
                w.write("fio version 3 iolog\n");
                w.write("0 " + fileName + " add\n0 " + fileName + " open\n");
                TraceRecord r = new TraceRecord();
                long us = 0;
                while ((requests == 0 || n < requests) && in.next(r)) {
                    if (selection.volume == null && in.severalVolumes()) {
                        throw new Main.UsageError("the trace has more than one volume (" + String.join(", ", in.volumesSeen().keySet())
                                + ", …); a fio log is one file: convert one with --volume ID (trace stats lists them)");
                    }
                    us = r.timeNs < 0 ? us : r.timeNs / 1000;
                    String p = us + " " + fileName + " ";
                    if (r.op == TraceRecord.Op.FLUSH) {
                        w.write(p + "sync 0 0\n");
                    } else {
                        if (r.has(TraceRecord.PREFLUSH)) {
                            w.write(p + "sync 0 0\n");
                        }
                        String a = r.op == TraceRecord.Op.READ ? "read" : r.op == TraceRecord.Op.WRITE ? "write" : "trim";
                        w.write(p + a + " " + r.offset + " " + r.length + "\n");
                        if (r.has(TraceRecord.FUA)) {
                            w.write(p + "datasync 0 0\n");
                        }
                    }
                    n++;
                }
                w.write(us + " " + fileName + " close\n");
                selection.checkVolume(in);
                return new Converted(n, Selection.skipped(in), 0, null);
            }
        }
    }
}
