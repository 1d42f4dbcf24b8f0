package dev.dmwc.writecache.script;

import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.format.MemoryLayout;
import dev.dmwc.writecache.target.TableParser;
import dev.dmwc.writecache.trace.TraceFormatException;
import dev.dmwc.writecache.trace.TraceReader;
import dev.dmwc.writecache.trace.TraceRecord;
import java.io.IOException;
import java.io.Writer;
import java.util.List;

/**
 * A block trace as a WCSCRIPT: each request becomes the op that sends the same bio (a PREFLUSH
 * an empty flush before it, as fsync sends one; FUA the write's {@code fua}), in the trace's
 * order, so that the kernel oracle's {@code runscript.sh} and {@code dmwc script} run one real
 * workload and their transcripts and images can be compared. The trace's times are dropped: a
 * script's ops run one after another. The script ends by writing everything back ({@code message
 * flush}, {@code settle}) with a {@code status} before and after, then {@code remove}.
 */
public final class TraceScript {
    private TraceScript() {}

    /**
     * The script's devices and table, and how its requests are written.
     *
     * @param mode {@code s}, {@code p}, or null for {@code @} (the runner's {@code --mode} decides); in
     *        {@code p} the cache is a {@code pmem} device of at least {@code cacheBytes} once its
     *        namespace's 2 MiB are taken
     * @param maxRequests at most this many requests of the trace (the first ones); 0: all
     * @param splitReads a read as one read a cache block (Linux 6.1's pmem mode answers a read of
     *        several blocks wrongly: test-data/kernel-bugs/pmem-read-hits-then-misses)
     * @param maxWriteSectors a longer write as several of at most this many sectors, each with its
     *        tag and FUA (0: never). A runner's O_DIRECT write reaches the target as one bio only
     *        up to 1 MiB (256 pages): beyond, as many bios as its buffer's physically contiguous
     *        runs need, which the script cannot fix, and each bio ends with its own autocommit check
     */
    public record Settings(String mode, int blockSize, List<String> features, long originBytes, long cacheBytes, long maxRequests,
            boolean splitReads, long maxWriteSectors) {
    }

    /** What the trace held, for the sizes and the checks made before anything is written. */
    public static final class Scan {
        /** Requests taken (at most {@link Settings#maxRequests}). */
        public long requests;
        /** The end of the furthest request, bytes. */
        public long extent;
        /** Distinct 4 KiB pages written. */
        public final dev.dmwc.writecache.replay.TouchedPages written = new dev.dmwc.writecache.replay.TouchedPages();
    }

    /**
     * Reads the requests a script would take and checks that each can be one: whole 512-byte
     * sectors.
     *
     * @throws TraceFormatException naming the request that cannot
     */
    public static Scan scan(TraceReader in, String source, long maxRequests) throws IOException, TraceFormatException {
        Scan s = new Scan();
        TraceRecord r = new TraceRecord();
        while ((maxRequests == 0 || s.requests < maxRequests) && in.next(r)) {
            if (r.op != TraceRecord.Op.FLUSH) {
                if ((r.offset | r.length) % 512 != 0) {
                    throw new TraceFormatException(source, r.position, r.op.name().toLowerCase(java.util.Locale.ROOT) + " at byte "
                            + r.offset + " of " + r.length + " bytes is not whole 512-byte sectors, which a WCSCRIPT op addresses");
                }
                s.extent = Math.max(s.extent, r.offset + r.length);
                if (r.op == TraceRecord.Op.WRITE) {
                    s.written.add(r.offset, r.length);
                }
            }
            s.requests++;
        }
        return s;
    }

    /**
     * What to tell the user about the parts of the script that timing decides, or null. The
     * kernel's clock runs while the oracle's runner works (tens of milliseconds an op under QEMU);
     * a {@code dmwc script} op takes no time, and its clock moves only at {@code sleep} and
     * {@code settle}. So whatever waits on the clock may happen at different ops in the two:
     * <ul>
     * <li>the commit timer, {@code autocommit_time} (1,000 ms unless the table sets it);</li>
     * <li>write-back with {@code cleaner} (from the start) or {@code max_age} (as blocks age);</li>
     * <li>write-back started by the writes themselves, once they pass the high watermark's share of
     * the cache: in ssd mode {@code pause_writeback} (3,000 ms by default) holds it until that
     * long after the last flush or write-around (test-data/kernel/ssd-pause-after-flush shows the
     * pause itself, which both keep alike; {@code pause_writeback 0} takes it away); in pmem mode
     * which entries it takes depends on timing on the kernel itself (RELIABILITY.md, "Real traces
     * on the real kernel").</li>
     * </ul>
     *
     * @param writtenBytes the distinct bytes the script writes ({@link Scan#written})
     */
    public static String timingNote(Settings s, long writtenBytes) {
        int highWatermark = 50;
        String pause = "3000";
        boolean commitTimer = true;
        List<String> timed = new java.util.ArrayList<>();
        List<String> f = s.features();
        for (int i = 0; i < f.size(); i++) {
            String arg = i + 1 < f.size() ? f.get(i + 1) : "";
            switch (f.get(i).toLowerCase(java.util.Locale.ROOT)) { // the kernel compares feature names with strcasecmp
                case "pause_writeback" -> pause = arg.matches("\\d{1,9}") ? Long.toString(Long.parseLong(arg)) : arg;
                case "high_watermark" -> highWatermark = arg.matches("\\d{1,3}") ? Integer.parseInt(arg) : highWatermark;
                case "autocommit_time" -> commitTimer = false;
                case "cleaner" -> timed.add("cleaner writes back from the start");
                case "max_age" -> timed.add("max_age writes back blocks as they age");
                default -> { }
            }
        }
        boolean ssd = !"p".equals(s.mode());
        boolean pmem = !"s".equals(s.mode());
        List<String> notes = new java.util.ArrayList<>();
        if (commitTimer) {
            notes.add("The table has no autocommit_time, so the commit timer (1 s) commits at times the kernel's clock decides.");
        }
        if (!timed.isEmpty()) {
            String both = String.join(" and ", timed);
            notes.add(Character.toUpperCase(both.charAt(0)) + both.substring(1) + ", at times the kernel's clock decides.");
        }
        if (timed.isEmpty() && writtenBytes * 100 >= s.cacheBytes() * highWatermark) {
            boolean paused = ssd && !pause.equals("0");
            if (paused || pmem) {
                notes.add("The script writes " + writtenBytes * 100 / s.cacheBytes() + "% of the cache's size, so write-back starts "
                        + "before its end.");
            }
            if (paused) {
                List<String> unpaused = new java.util.ArrayList<>(f);
                int at = -1;
                for (int i = 0; i < unpaused.size(); i++) {
                    at = unpaused.get(i).equalsIgnoreCase("pause_writeback") ? i : at;
                }
                if (at >= 0 && at + 1 < unpaused.size()) {
                    unpaused.set(at + 1, "0");
                } else {
                    unpaused.addAll(List.of("pause_writeback", "0"));
                }
                // an '@' table runs in pmem mode too, which refuses pause_writeback: the suggestion names ssd mode
                String table = (s.mode() == null ? "s" : s.mode()) + " " + s.blockSize() + " " + unpaused.size() + " "
                        + String.join(" ", unpaused);
                notes.add("In ssd mode it waits until " + pause + " ms after the last flush or write-around (pause_writeback): "
                        + "--table '" + table + "' makes a script both run alike.");
            }
            if (pmem) {
                notes.add("In pmem mode which blocks it writes back depends on timing, on the kernel too: two kernel runs of one "
                        + "such script can differ.");
            }
        }
        if (notes.isEmpty()) {
            return null;
        }
        return "note: " + String.join(" ", notes) + " (The kernel's clock runs as the oracle's runner works, tens of ms an op; "
                + "a dmwc script's moves only at a sleep or settle, its ops taking no time.)";
    }

    /**
     * Why the target would refuse the script's table at {@code create}, or null: the kernel's own
     * text ({@link TableParser}, then the sizing of the cache after {@code start_sector}) and the
     * mode it refuses it in. An {@code @} table is checked in both modes, since the runner's
     * {@code --mode} chooses one. Checked before anything is written, so that a convert does not
     * leave a script whose every op fails.
     */
    public static String tableRefusal(Settings s) {
        java.util.Map<String, String> refused = new java.util.LinkedHashMap<>();
        for (String mode : s.mode() == null ? List.of("s", "p") : List.of(s.mode())) {
            // in pmem mode the runner makes the cache an NVDIMM ('cache SIZE' too), of which the target gets all but the namespace's share
            long cache = mode.equals("p") ? pmemBytes(s.cacheBytes()) - NAMESPACE_BYTES : s.cacheBytes();
            List<String> argv = new java.util.ArrayList<>(List.of(mode, "origin", "cache", Integer.toString(s.blockSize()),
                    Integer.toString(s.features().size())));
            argv.addAll(s.features());
            try {
                var table = TableParser.parse(argv,
                        name -> new TableParser.DeviceInfo(name.equals("origin") ? s.originBytes() : cache, 512));
                // the ctr's sizing of what follows start_sector: ssd mode checks it, pmem mode's init_memory of the fresh device
                MemoryLayout.calculate(cache - (table.config().startSector << 9), s.blockSize());
            } catch (DmError e) {
                refused.put(mode, e.getMessage());
            } catch (MemoryLayout.SizeException e) {
                refused.put(mode, dev.dmwc.writecache.engine.Writecache.sizingRefused(mode.equals("p"), e).getMessage());
            }
        }
        if (refused.isEmpty()) {
            return null;
        }
        var first = refused.entrySet().iterator().next();
        String why = "the target refuses the table in " + (first.getKey().equals("s") ? "ssd" : "pmem") + " mode: " + first.getValue();
        if (s.mode() == null && refused.size() == 1) {
            String taken = first.getKey().equals("s") ? "p" : "s";
            why += " (features alone make an '@' table, which the runner's --mode may run in either mode; for " + (taken.equals("s")
                    ? "ssd" : "pmem") + " mode only, name it: '" + taken + " " + s.blockSize() + " " + s.features().size() + " "
                    + String.join(" ", s.features()) + "')";
        }
        return why;
    }

    /** The fsdax namespace's own share of an NVDIMM. */
    private static final long NAMESPACE_BYTES = 2 << 20;

    /** The NVDIMM a pmem-mode script declares for a cache of {@code cacheBytes}: the namespace's share added, in 16 MiB steps. */
    private static long pmemBytes(long cacheBytes) {
        return (cacheBytes + NAMESPACE_BYTES + (16 << 20) - 1) / (16 << 20) * (16 << 20);
    }

    /** What {@link #write} wrote. */
    public record Written(long requests, long ops, long emptyRequests) {
    }

    /**
     * Writes the script of the requests {@code in} gives ({@link #scan} read them first: a request
     * it refuses is not checked again), with {@code header} as comment lines at the top.
     */
    public static Written write(TraceReader in, Settings s, List<String> header, Writer w) throws IOException, TraceFormatException {
        for (String h : header) {
            w.write("# " + h + "\n");
        }
        Ops out = new Ops(w);
        out.op("origin " + size(s.originBytes()));
        // a table in pmem mode needs an NVDIMM, whose first 2 MiB the fsdax namespace takes
        out.op("p".equals(s.mode()) ? "pmem " + size(pmemBytes(s.cacheBytes())) : "cache " + size(s.cacheBytes()));
        out.op("table " + (s.mode() == null ? "@" : s.mode()) + " " + s.blockSize() + " " + s.features().size()
                + (s.features().isEmpty() ? "" : " " + String.join(" ", s.features())));
        out.op("create");
        long requests = 0;
        long empty = 0;
        long writes = 0;
        TraceRecord r = new TraceRecord();
        while ((s.maxRequests() == 0 || requests < s.maxRequests()) && in.next(r)) {
            requests++;
            if (r.op == TraceRecord.Op.FLUSH || r.has(TraceRecord.PREFLUSH)) {
                out.op("flush");
            }
            if (r.op == TraceRecord.Op.FLUSH) {
                continue;
            }
            if (r.length == 0) {
                empty++; // a bio without data: no WCSCRIPT op sends one (its flush, if any, went above)
                continue;
            }
            long sector = r.offset >> 9;
            long nsect = r.length >> 9;
            switch (r.op) {
                case WRITE -> {
                    String tag = " w" + Long.toString(++writes, 36) + (r.has(TraceRecord.FUA) ? " fua" : "");
                    long most = s.maxWriteSectors() == 0 ? nsect : s.maxWriteSectors();
                    for (long at = sector, end = sector + nsect; at < end; at += most) {
                        out.op("write " + at + " " + Math.min(most, end - at) + tag);
                    }
                }
                case DISCARD -> out.op("discard " + sector + " " + nsect);
                case READ -> {
                    long perRead = s.splitReads() ? s.blockSize() >> 9 : Long.MAX_VALUE;
                    for (long at = sector, end = sector + nsect; at < end;) {
                        long next = perRead == Long.MAX_VALUE ? end : Math.min(end, (at / perRead + 1) * perRead);
                        out.op("read " + at + " " + (next - at));
                        at = next;
                    }
                }
                default -> throw new IllegalStateException(r.op.name());
            }
        }
        for (String op : List.of("status", "message flush", "settle", "status", "remove")) {
            out.op(op);
        }
        return new Written(requests, out.count, empty);
    }

    /** Writes ops a line each, counting them. */
    private static final class Ops {
        private final Writer w;
        long count;

        Ops(Writer w) {
            this.w = w;
        }

        void op(String line) throws IOException {
            w.write(line);
            w.write('\n');
            count++;
        }
    }

    /** A SIZE as a WCSCRIPT reads it: with the largest suffix that divides it. */
    static String size(long bytes) {
        String[] suffix = {"G", "M", "K"};
        for (int i = 0; i < suffix.length; i++) {
            long unit = 1L << (30 - 10 * i);
            if (bytes % unit == 0) {
                return bytes / unit + suffix[i];
            }
        }
        return Long.toString(bytes);
    }
}
