package dev.dmwc.writecache.trace;

import java.io.InputStream;
import java.io.IOException;
import java.util.Locale;

/**
 * Delimited text traces, one request per line, described by a {@link CsvLayout}: the presets
 * for MSR Cambridge, SPC/UMass, Alibaba 2020 and Tencent CBS, or a user's {@code csv:…} layout.
 * Extra columns are ignored; a header line is skipped when the layout says so or when its
 * offset column is not a number on the first line.
 */
final class CsvTraceReader extends LineReader {
    private final CsvLayout layout;

    CsvTraceReader(InputStream in, String file, CsvLayout layout) {
        super(in, file);
        this.layout = layout;
    }

    @Override
    public String format() {
        return layout.name();
    }

    @Override
    public boolean next(TraceRecord r) throws IOException, TraceFormatException {
        String l;
        while ((l = line()) != null) {
            if (l.isBlank() || l.startsWith("#")) {
                continue;
            }
            String[] f = layout.delimiter().equals(" ") ? words(l) : fields(l, layout.delimiter().charAt(0));
            int need = layout.maxColumn();
            if (f.length < need) {
                if (lineNo == 1 && layout.header()) {
                    continue;
                }
                throw bad("expected at least " + need + " '" + layout.delimiter() + "'-separated fields ("
                        + layout.describe() + "), got " + f.length, l);
            }
            if (lineNo == 1 && (layout.header() || !looksNumeric(f[layout.offsetCol() - 1]))) {
                continue; // header row
            }
            TraceRecord.Op op = op(f[layout.opCol() - 1].trim(), l);
            if (op == null) {
                continue;
            }
            long off = nonNegative(parseLong(f[layout.offsetCol() - 1], "an offset", l), "offset", l);
            long len = nonNegative(parseLong(f[layout.sizeCol() - 1], "a size", l), "size", l);
            long time = -1;
            if (layout.timeCol() > 0) {
                time = relative(timeNs(f[layout.timeCol() - 1].trim(), l));
            }
            String vol = null;
            if (layout.volumeCols().length > 0) {
                StringBuilder sb = new StringBuilder();
                for (int c : layout.volumeCols()) {
                    if (sb.length() > 0) {
                        sb.append('_');
                    }
                    sb.append(f[c - 1].trim());
                }
                vol = sb.toString();
            }
            try {
                r.set(time, op, Math.multiplyExact(off, layout.offsetUnit()), Math.multiplyExact(len, layout.sizeUnit()),
                        0, vol, lineNo);
            } catch (ArithmeticException e) {
                throw bad("offset or size overflows 64 bits in bytes", l);
            }
            if (r.length == 0 && op != TraceRecord.Op.FLUSH) {
                continue;
            }
            return true;
        }
        return false;
    }

    private static boolean looksNumeric(String s) {
        return s.trim().matches("-?\\d+");
    }

    private TraceRecord.Op op(String v, String line) throws TraceFormatException {
        switch (v.toLowerCase(Locale.ROOT)) {
            case "r", "read", "rs", "ra" -> { return TraceRecord.Op.READ; }
            case "w", "write", "ws" -> { return TraceRecord.Op.WRITE; }
            case "d", "trim", "discard" -> { return TraceRecord.Op.DISCARD; }
            case "f", "flush", "sync" -> { return TraceRecord.Op.FLUSH; }
            default -> { }
        }
        if (layout.numericOps()) {
            if (v.equals(layout.readCode())) {
                return TraceRecord.Op.READ;
            }
            if (v.equals(layout.writeCode())) {
                return TraceRecord.Op.WRITE;
            }
        }
        throw bad("unknown op code '" + v + "' (expected " + layout.opsExpected() + ")", line);
    }

    private long scaled(long v, long by, String line) throws TraceFormatException {
        try {
            return Math.multiplyExact(v, by);
        } catch (ArithmeticException e) {
            throw bad("time " + v + " overflows 64-bit nanoseconds", line);
        }
    }

    private long timeNs(String v, String line) throws TraceFormatException {
        switch (layout.timeUnit()) {
            case "s" -> { return secondsToNs(v, line); }
            case "ms" -> { return scaled(nonNegative(parseLong(v, "a time in ms", line), "time", line), 1_000_000L, line); }
            case "us" -> { return scaled(nonNegative(parseLong(v, "a time in µs", line), "time", line), 1_000L, line); }
            case "ns" -> { return nonNegative(parseLong(v, "a time in ns", line), "time", line); }
            case "filetime" -> {
                // Windows FILETIME: 100-ns ticks since 1601-01-01; to Unix ns (the 1601 value overflows in ns)
                long ticks = nonNegative(parseLong(v, "a FILETIME", line), "time", line);
                try {
                    return Math.multiplyExact(ticks - 116_444_736_000_000_000L, 100L);
                } catch (ArithmeticException e) {
                    throw bad("FILETIME " + ticks + " is out of range", line);
                }
            }
            default -> throw new IllegalStateException("time unit " + layout.timeUnit());
        }
    }
}
