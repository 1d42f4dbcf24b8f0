package dev.dmwc.writecache.trace;

import java.io.IOException;
import java.io.InputStream;

/**
 * blkparse's default text output: {@code maj,min cpu seq sec.nsec pid action RWBS [sector + n] [proc]}.
 * One event class is replayed: Q (bios as submitted, default) or D (requests as issued). RWBS:
 * optional leading F (PREFLUSH), then D / W / R / N, then F (FUA), A, S, M. An empty PREFLUSH
 * (no sector) is a flush. The per-CPU and total summary blocks at the end are skipped.
 */
final class BlkparseReader extends LineReader {
    private final String action;
    private boolean inSummary;

    BlkparseReader(InputStream in, String file, String action) {
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

    /** {@link #isEventLine(String[])} on the current line's words, without making strings. */
    private boolean isEventLine() {
        if (nw < 7) {
            return false;
        }
        int comma = -1;
        int dot = -1;
        for (int k = ws[0]; k < we[0]; k++) {
            if (lb[k] == ',') {
                comma = k;
                break;
            }
        }
        for (int k = ws[3]; k < we[3]; k++) {
            if (lb[k] == '.') {
                dot = k;
                break;
            }
        }
        return comma > ws[0] && allDigits(ws[0], comma) && allDigits(comma + 1, we[0]) && allDigits(ws[1], we[1])
                && dot > ws[3] && allDigits(ws[3], dot) && allDigits(dot + 1, we[3]);
    }

    private boolean allDigits(int from, int to) {
        if (from >= to) {
            return false;
        }
        for (int k = from; k < to; k++) {
            if (lb[k] < '0' || lb[k] > '9') {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean next(TraceRecord r) throws IOException, TraceFormatException {
        while (nextLine()) {
            splitWords();
            if (!isEventLine()) {
                String l = lineText();
                if (inSummary || isSummaryLine(l)) {
                    inSummary |= !l.isBlank();
                    continue;
                }
                throw bad("expected a blkparse event 'maj,min cpu seq sec.nsec pid action RWBS sector + n [process]'", l);
            }
            if (inSummary) {
                throw bad("event line after blkparse's summary (two traces concatenated?)", lineText());
            }
            if (!wordIs(5, action)) {
                continue;
            }
            long time = relative(wordSecondsToNs(3));
            int rs = ws[6];
            int re = we[6];
            int flags = 0;
            int i = rs;
            if (re - rs > 1 && lb[rs] == 'F') {
                flags |= TraceRecord.PREFLUSH;
                i++;
            }
            char kind = (char) lb[i++];
            for (; i < re; i++) {
                switch (lb[i]) {
                    case 'F' -> flags |= TraceRecord.FUA;
                    case 'S' -> flags |= TraceRecord.SYNC;
                    case 'M' -> flags |= TraceRecord.META;
                    case 'A' -> flags |= TraceRecord.AHEAD;
                    default -> { } // B (barrier, old), Z/E and others: carried by the op
                }
            }
            boolean hasSector = nw >= 10 && wordIs(8, "+") && lb[ws[7]] != '[';
            long sector = 0;
            long n = 0;
            if (hasSector) {
                sector = wordNonNegative(7, "a sector", "sector");
                n = wordNonNegative(9, "a sector count", "sector count");
            }
            TraceRecord.Op op;
            switch (kind) {
                case 'R' -> op = TraceRecord.Op.READ;
                case 'W' -> op = TraceRecord.Op.WRITE;
                case 'D' -> op = TraceRecord.Op.DISCARD;
                case 'N' -> op = TraceRecord.Op.FLUSH;
                default -> throw bad("unknown RWBS op '" + kind + "' in '" + word(6) + "' (expected D, W, R or N)", lineText());
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
            if (sector > Long.MAX_VALUE / 512 || n > Long.MAX_VALUE / 512) {
                throw bad("sector " + sector + " + " + n + " overflows a byte offset", lineText());
            }
            r.set(time, op, sector * 512L, n * 512L, flags, wordAsVolume(0), lineNo);
            return true;
        }
        return false;
    }
}
