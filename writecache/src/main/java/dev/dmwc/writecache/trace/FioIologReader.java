package dev.dmwc.writecache.trace;

import java.io.IOException;
import java.io.InputStream;

/**
 * fio iolog v2 ({@code file action [offset length]}) and v3 ({@code µs file action [offset length]}).
 * {@code read}/{@code write}/{@code trim} replay; {@code sync} and {@code datasync} are flushes
 * (what fsync does on a block device); {@code add}/{@code open}/{@code close} are skipped. The file
 * name is the volume.
 *
 * <p>v2 {@code wait N}: fio's HOWTO calls it "microseconds relative to the previous wait", but
 * fio's code (iolog.c since 2011) sleeps until N <em>milliseconds</em> since the job started. dmwc
 * follows the code: after {@code wait N} the following requests are at time N ms. Without waits
 * a v2 log has no time.
 */
final class FioIologReader extends LineReader {
    private final int version;
    private long waitNs = -1;

    /** Whether {@link #fastLine} is tried first (tests compare both paths). */
    private final boolean fast;

    FioIologReader(InputStream in, String file, int version) {
        this(in, file, version, true);
    }

    FioIologReader(InputStream in, String file, int version, boolean fast) {
        super(in, file);
        this.version = version;
        this.fast = fast;
    }

    @Override
    public String format() {
        return version == 2 ? "fio2" : "fio3";
    }

    @Override
    public boolean next(TraceRecord r) throws IOException, TraceFormatException {
        while (nextLine()) {
            if (lineNo == 1) {
                String want = "fio version " + version + " iolog";
                if (!lineText().trim().equals(want)) {
                    throw bad("expected the header '" + want + "'", lineText());
                }
                continue;
            }
            if (fast && fastLine(r)) {
                return true;
            }
            int n = splitWords();
            if (n == 0) {
                continue;
            }
            int i = 0;
            long time = waitNs;
            if (version == 3) {
                if (n < 3) {
                    throw bad("expected '<µs> <file> <action> [<offset> <length>]'", lineText());
                }
                long us = wordNonNegative(0, "a timestamp in µs", "timestamp");
                time = relative(us * 1000);
                i = 1;
            } else if (n < 2) {
                throw bad("expected '<file> <action> [<offset> <length>]'", lineText());
            }
            int a = i + 1;
            TraceRecord.Op op;
            if (wordIs(a, "write")) {
                op = TraceRecord.Op.WRITE;
            } else if (wordIs(a, "read")) {
                op = TraceRecord.Op.READ;
            } else if (wordIs(a, "trim")) {
                op = TraceRecord.Op.DISCARD;
            } else if (wordIs(a, "sync") || wordIs(a, "datasync")) {
                r.set(time, TraceRecord.Op.FLUSH, 0, 0, TraceRecord.PREFLUSH, wordAsVolume(i), lineNo);
                return true;
            } else if (wordIs(a, "add") || wordIs(a, "open") || wordIs(a, "close")) {
                continue;
            } else if (wordIs(a, "wait")) {
                if (version == 3) {
                    continue; // fio: "ignoring wait command with version 3"
                }
                if (n < 3) {
                    throw bad("expected 'wait <milliseconds>'", lineText());
                }
                waitNs = wordNonNegative(i + 2, "a wait time", "wait") * 1_000_000L;
                continue;
            } else {
                throw bad("unknown iolog action '" + word(a)
                        + "' (expected add, open, close, read, write, trim, sync, datasync, wait)", lineText());
            }
            if (n < i + 4) {
                throw bad("'" + word(a) + "' needs <offset> <length> in bytes", lineText());
            }
            long off = wordNonNegative(i + 2, "an offset in bytes", "offset");
            long len = wordNonNegative(i + 3, "a length in bytes", "length");
            if (len == 0) {
                continue;
            }
            r.set(time, op, off, len, 0, wordAsVolume(i), lineNo);
            return true;
        }
        return false;
    }

    /**
     * The common line, {@code [<µs> ]<file> read|write <offset> <length>} with one space between
     * words, decoded in one pass over its bytes (the hot path of a replay: splitting into words
     * first cost as much again). Any other line, and any line this pass is unsure of (a zero length,
     * a number of 19 digits or more, blanks other than one space), returns false before changing
     * anything, and the general path below decodes it or names what is wrong.
     */
    private boolean fastLine(TraceRecord r) {
        byte[] b = lb;
        int i = ls;
        int end = le;
        long us = 0;
        if (version == 3) {
            us = number(i, end);
            i = numEnd;
            if (us < 0 || i >= end || b[i] != ' ') {
                return false;
            }
            i++;
        }
        int fileFrom = i;
        String vol = null;
        if (sameVolume(i)) {
            vol = lastVolume();
            i += lastVolumeBytes();
        } else {
            while (i < end && (b[i] & 0xff) > ' ') {
                i++;
            }
        }
        int fileTo = i;
        if (fileTo == fileFrom || i >= end || b[i] != ' ') {
            return false;
        }
        i++;
        TraceRecord.Op op;
        if (end - i > 6 && b[i] == 'w' && b[i + 1] == 'r' && b[i + 2] == 'i' && b[i + 3] == 't' && b[i + 4] == 'e'
                && b[i + 5] == ' ') {
            op = TraceRecord.Op.WRITE;
            i += 6;
        } else if (end - i > 5 && b[i] == 'r' && b[i + 1] == 'e' && b[i + 2] == 'a' && b[i + 3] == 'd' && b[i + 4] == ' ') {
            op = TraceRecord.Op.READ;
            i += 5;
        } else {
            return false;
        }
        long off = number(i, end);
        i = numEnd;
        if (off < 0 || i >= end || b[i] != ' ') {
            return false;
        }
        long len = number(i + 1, end);
        if (len <= 0 || numEnd != end) {
            return false;
        }
        long time = version == 3 ? relative(us * 1000) : waitNs;
        r.set(time, op, off, len, 0, vol != null ? vol : volume(fileFrom, fileTo), lineNo);
        return true;
    }

    /** Where the digits {@link #number} read last end (exclusive). */
    private int numEnd;

    /**
     * The decimal digits at {@code lb[i, end)} up to the first other byte, its index left in
     * {@link #numEnd}; -1 when there are none, or more than 18 (which could overflow: the general
     * path decides those). The first eight bytes are decoded at once ({@link #leadingDigits},
     * {@link #digitsValue}), any further digits one at a time.
     */
    private long number(int i, int end) {
        byte[] b = lb;
        int from = i;
        long v = 0;
        if (i + 8 <= b.length) {
            long w = word(b, i);
            int n = Math.min(leadingDigits(w), end - i); // bytes past the line's end are not its digits
            if (n <= 0) {
                numEnd = i;
                return -1;
            }
            v = digitsValue(w, n);
            i += n;
            if (n < 8) {
                numEnd = i;
                return v;
            }
        }
        for (; i < end; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) {
                break;
            }
            v = v * 10 + d;
        }
        numEnd = i;
        return i == from || i - from > 18 ? -1 : v;
    }

    private static final long HIGH_NIBBLES = 0xF0F0F0F0F0F0F0F0L;
    private static final long THREES = 0x3030303030303030L;

    /**
     * How many of the eight bytes of {@code w} (the first byte lowest) are ASCII digits before the
     * first that is not (8: all). A digit's high nibble is 3 and stays 3 when 6 is added; any other
     * byte fails one of the two. Carries of the addition only move toward later bytes, past the
     * first non-digit, so every byte up to it is judged exactly.
     */
    static int leadingDigits(long w) {
        long m = ((w & HIGH_NIBBLES) ^ THREES) | (((w + 0x0606060606060606L) & HIGH_NIBBLES) ^ THREES);
        // m's bytes are 0 for a digit, else have bits only in their high nibble: fold them onto bit 7
        long flags = (m | m << 1 | m << 2 | m << 3) & 0x8080808080808080L;
        return Long.numberOfTrailingZeros(flags) >>> 3;
    }

    /** The value of the first {@code n} (1..8) bytes of {@code w}, all ASCII digits, the first one the most significant. */
    static long digitsValue(long w, int n) {
        long d = (w - THREES) << ((8 - n) << 3); // the n digits moved to the top bytes; the bytes below are leading zeros
        d = (d * 10 + (d >>> 8)) & 0x00FF00FF00FF00FFL;
        d = (d * 100 + (d >>> 16)) & 0x0000FFFF0000FFFFL;
        return (d * 10000 + (d >>> 32)) & 0xFFFFFFFFL;
    }
}
