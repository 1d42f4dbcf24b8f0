package dev.dmwc.writecache.trace;

import java.io.BufferedReader;
import java.io.IOException;

/**
 * blkparse's default text output: {@code maj,min cpu seq sec.nsec pid action RWBS [sector + n] [proc]}.
 * One event class is replayed: Q (bios as submitted, default) or D (requests as issued). RWBS:
 * optional leading F (PREFLUSH), then D / W / R / N, then F (FUA), A, S, M. An empty PREFLUSH
 * (no sector) is a flush. The per-CPU and total summary blocks at the end are skipped.
 */
final class BlkparseReader extends LineReader {
    private final String action;
    private boolean inSummary;

    BlkparseReader(BufferedReader in, String file, String action) {
        super(in, file);
        this.action = action;
    }

    @Override
    public String format() {
        return "blkparse";
    }

    static boolean isEventLine(String[] t) {
        return t.length >= 7 && isDevice(t[0]) && isDigits(t[1], 0, t[1].length()) && isTime(t[3]);
    }

    private static boolean isDigits(String s, int from, int to) {
        if (from >= to) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static boolean isDevice(String s) {
        int c = s.indexOf(',');
        return c > 0 && isDigits(s, 0, c) && isDigits(s, c + 1, s.length());
    }

    private static boolean isTime(String s) {
        int d = s.indexOf('.');
        return d > 0 && isDigits(s, 0, d) && isDigits(s, d + 1, s.length());
    }

    static boolean isSummaryLine(String l) {
        String s = l.trim();
        return s.isEmpty() || s.startsWith("CPU") || s.startsWith("Total") || s.startsWith("Throughput")
                || s.startsWith("Events") || s.contains("Queued:") || s.contains("Dispatches:") || s.contains("Completed:")
                || s.contains("Merges:") || s.contains("Timer unplugs:") || s.contains("IO unplugs:")
                || s.contains("Read depth:") || s.contains("Requeues:") || s.contains("Skips:") || s.startsWith("Reads")
                || s.startsWith("Writes") || s.startsWith("Read ") || s.startsWith("Write ") || s.startsWith("PC ")
                || s.startsWith("Input file") || s.startsWith("Skips:");
    }

    @Override
    public boolean next(TraceRecord r) throws IOException, TraceFormatException {
        String l;
        while ((l = line()) != null) {
            String[] t = words(l);
            if (!isEventLine(t)) {
                if (inSummary || isSummaryLine(l)) {
                    inSummary |= !l.isBlank();
                    continue;
                }
                throw bad("expected a blkparse event 'maj,min cpu seq sec.nsec pid action RWBS sector + n [process]'", l);
            }
            if (inSummary) {
                throw bad("event line after blkparse's summary (two traces concatenated?)", l);
            }
            if (!t[5].equals(action)) {
                continue;
            }
            long time = relative(secondsToNs(t[3], l));
            String rwbs = t[6];
            int flags = 0;
            int i = 0;
            if (rwbs.length() > 1 && rwbs.charAt(0) == 'F') {
                flags |= TraceRecord.PREFLUSH;
                i = 1;
            }
            if (i >= rwbs.length()) {
                throw bad("RWBS '" + rwbs + "' has no D/W/R/N", l);
            }
            char kind = rwbs.charAt(i++);
            for (; i < rwbs.length(); i++) {
                switch (rwbs.charAt(i)) {
                    case 'F' -> flags |= TraceRecord.FUA;
                    case 'S' -> flags |= TraceRecord.SYNC;
                    case 'M' -> flags |= TraceRecord.META;
                    case 'A' -> flags |= TraceRecord.AHEAD;
                    default -> { } // B (barrier, old), Z/E and others: carried by the op
                }
            }
            boolean hasSector = t.length >= 10 && t[8].equals("+") && !t[7].startsWith("[");
            long sector = 0;
            long n = 0;
            if (hasSector) {
                sector = nonNegative(parseLong(t[7], "a sector", l), "sector", l);
                n = nonNegative(parseLong(t[9], "a sector count", l), "sector count", l);
            }
            TraceRecord.Op op;
            switch (kind) {
                case 'R' -> op = TraceRecord.Op.READ;
                case 'W' -> op = TraceRecord.Op.WRITE;
                case 'D' -> op = TraceRecord.Op.DISCARD;
                case 'N' -> op = TraceRecord.Op.FLUSH;
                default -> throw bad("unknown RWBS op '" + kind + "' in '" + rwbs + "' (expected D, W, R or N)", l);
            }
            if (op != TraceRecord.Op.FLUSH && (!hasSector || n == 0)) {
                if ((flags & TraceRecord.PREFLUSH) != 0 || op == TraceRecord.Op.WRITE) {
                    op = TraceRecord.Op.FLUSH;   // "Q FWS [jbd2]": an empty PREFLUSH
                } else {
                    continue;                    // no data and no flush: nothing to replay
                }
            }
            if (op == TraceRecord.Op.FLUSH && (flags & TraceRecord.PREFLUSH) == 0 && kind == 'N') {
                flags |= TraceRecord.PREFLUSH;
            }
            try {
                r.set(time, op, Math.multiplyExact(sector, 512L), Math.multiplyExact(n, 512L), flags, t[0], lineNo);
            } catch (ArithmeticException e) {
                throw bad("sector " + sector + " + " + n + " overflows a byte offset", l);
            }
            return true;
        }
        return false;
    }
}
