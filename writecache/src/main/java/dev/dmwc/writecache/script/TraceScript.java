package dev.dmwc.writecache.script;

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
     * What to tell the user when the script's writes will start write-back before its end, or
     * null. Where write-back runs beside the ops, timing decides what it does. In ssd mode
     * {@code pause_writeback} (3,000 ms by default) holds it back until that long after the last
     * flush or write-around: the kernel's clock runs while the oracle's runner works (tens of
     * milliseconds an op under QEMU), a {@code dmwc script} op takes no time, so the two let it
     * run at different points (test-data/kernel/ssd-pause-after-flush shows the pause itself,
     * which both keep alike); {@code pause_writeback 0} takes that away. In pmem mode which
     * entries it takes depends on timing on the kernel itself (RELIABILITY.md, "Real traces on
     * the real kernel").
     *
     * @param writtenBytes the distinct bytes the script writes ({@link Scan#written})
     */
    public static String writebackNote(Settings s, long writtenBytes) {
        int highWatermark = 50;
        boolean unpaused = false;
        List<String> f = s.features();
        for (int i = 0; i + 1 < f.size(); i++) {
            if (f.get(i).equals("pause_writeback") && f.get(i + 1).equals("0")) {
                unpaused = true;
            }
            if (f.get(i).equals("high_watermark") && f.get(i + 1).matches("\\d{1,3}")) {
                highWatermark = Integer.parseInt(f.get(i + 1));
            }
        }
        if (writtenBytes * 100 < s.cacheBytes() * highWatermark) {
            return null;
        }
        boolean ssd = !"p".equals(s.mode());
        boolean pmem = !"s".equals(s.mode());
        if (!pmem && unpaused) {
            return null;
        }
        StringBuilder b = new StringBuilder("note: the script writes " + writtenBytes * 100 / s.cacheBytes()
                + "% of the cache's size, so write-back starts before its end, beside the ops.");
        if (ssd && !unpaused) {
            b.append(" In ssd mode it waits until 3 s after the last flush or write-around (pause_writeback): the kernel's "
                    + "clock gets there as the oracle's runner works (tens of ms an op), dmwc's only at a sleep or settle (its "
                    + "ops take no time). Add 'pause_writeback 0' to --table for a script both run alike.");
        }
        if (pmem) {
            b.append(" In pmem mode which blocks it writes back depends on timing, on the kernel too: two kernel runs of one "
                    + "such script can differ.");
        }
        return b.toString();
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
        // a table in pmem mode needs an NVDIMM, whose first 2 MiB the fsdax namespace takes, in 16 MiB steps
        out.op("p".equals(s.mode()) ? "pmem " + size((s.cacheBytes() + (2 << 20) + (16 << 20) - 1) / (16 << 20) * (16 << 20))
                : "cache " + size(s.cacheBytes()));
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
