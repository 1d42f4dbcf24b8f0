package dev.dmwc.writecache.trace;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Shared plumbing of the text formats: lines read as bytes (no {@code String} per line or field on
 * the hot path: a trace may hold billions of lines), words as offsets into the line, numbers
 * parsed in place; line numbers, and errors naming file:line with the line's text.
 */
abstract class LineReader implements TraceReader {
    private final InputStream in;
    protected final String file;
    protected long lineNo;
    protected long firstTimeNs = Long.MIN_VALUE;

    private byte[] buf = new byte[1 << 16];
    private int pos;
    private int lim;
    private boolean eof;
    /** The current line: {@code lb[ls, le)}, without its line ending. */
    protected byte[] lb;
    protected int ls;
    protected int le;
    /** Words of the current line after {@link #splitWords()}: {@code [ws[i], we[i])}; {@code nw} counts them all. */
    protected final int[] ws = new int[MAX_WORDS];
    protected final int[] we = new int[MAX_WORDS];
    protected int nw;
    protected static final int MAX_WORDS = 32;
    private byte[] lastVolume = new byte[0];
    private String lastVolumeString;

    LineReader(InputStream in, String file) {
        this.in = in;
        this.file = file;
    }

    /** The longest line read: beyond it the input is not a text trace (binary given as text?). */
    static final int MAX_LINE = 1 << 20;
    /** Skipping the rest of a line longer than {@link #MAX_LINE}, already reported. */
    private boolean discarding;

    /** Advance to the next line ({@code lb/ls/le}); false at the end. */
    protected boolean nextLine() throws IOException, TraceFormatException {
        while (true) {
            if (discarding) {
                int nl = -1;
                for (int i = pos; i < lim; i++) {
                    if (buf[i] == '\n') {
                        nl = i;
                        break;
                    }
                }
                if (nl < 0) {
                    pos = lim;
                    if (eof) {
                        return false;
                    }
                    fill();
                    continue;
                }
                pos = nl + 1;
                discarding = false;
            }
            int nl = newline(buf, pos, lim);
            if (nl >= 0) {
                setLine(pos, nl);
                pos = nl + 1;
                return true;
            }
            if (eof) {
                if (pos < lim) {
                    setLine(pos, lim); // a last line without a newline
                    pos = lim;
                    return true;
                }
                return false;
            }
            fill();
        }
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long NEWLINES = ONES * '\n';

    /** Eight bytes of {@code b} from {@code i}, the first one lowest. */
    static long word(byte[] b, int i) {
        return (long) LONGS.get(b, i);
    }

    /**
     * The index of the first '\n' in {@code b[from, to)}, or -1: eight bytes a step (a word's
     * bytes XORed with '\n' and tested for a zero byte; the lowest flagged byte is always a true
     * zero), then the tail a byte a step.
     */
    static int newline(byte[] b, int from, int to) {
        int i = from;
        for (; i <= to - 8; i += 8) {
            long x = word(b, i) ^ NEWLINES;
            long z = (x - ONES) & ~x & HIGHS;
            if (z != 0) {
                return i + (Long.numberOfTrailingZeros(z) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private void setLine(int from, int to) {
        lineNo++;
        lb = buf;
        ls = from;
        le = to > from && buf[to - 1] == '\r' ? to - 1 : to;
    }

    /** Keep the unread part, make room (growing for a long line, up to {@link #MAX_LINE}), read more. */
    private void fill() throws IOException, TraceFormatException {
        int keep = lim - pos;
        if (keep > 0 && pos > 0) {
            System.arraycopy(buf, pos, buf, 0, keep);
        }
        pos = 0;
        lim = keep;
        if (lim == buf.length) {
            if (buf.length >= MAX_LINE) {
                // report the line once, then skip to its end (a caller may go on with --skip-bad)
                lineNo++;
                discarding = true;
                pos = 0;
                lim = 0;
                throw new TraceFormatException(file, lineNo, "a line longer than " + (MAX_LINE >> 20)
                        + " MiB: not a text trace (binary data given as text? name the format with --format)");
            }
            buf = java.util.Arrays.copyOf(buf, buf.length * 2);
        }
        int n = in.read(buf, lim, buf.length - lim);
        if (n < 0) {
            eof = true;
        } else {
            lim += n;
        }
    }

    /** The next line as text, or null at the end (the formats that are not on the hot path). */
    protected String line() throws IOException, TraceFormatException {
        return nextLine() ? lineText() : null;
    }

    /** The current line as text (UTF-8; malformed bytes become U+FFFD, shown as '?' in errors). */
    protected String lineText() {
        return new String(lb, ls, le - ls, StandardCharsets.UTF_8);
    }

    /** Split the current line on runs of blanks (bytes up to ' '); the count, also in {@code nw}. */
    protected int splitWords() {
        int n = 0;
        int i = ls;
        byte[] b = lb;
        while (i < le) {
            while (i < le && (b[i] & 0xff) <= ' ') {
                i++;
            }
            if (i >= le) {
                break;
            }
            int start = i;
            while (i < le && (b[i] & 0xff) > ' ') {
                i++;
            }
            if (n < MAX_WORDS) {
                ws[n] = start;
                we[n] = i;
            }
            n++;
        }
        nw = n;
        return n;
    }

    protected String word(int i) {
        return new String(lb, ws[i], we[i] - ws[i], StandardCharsets.UTF_8);
    }

    /** Whether word {@code i} is exactly {@code ascii}. */
    protected boolean wordIs(int i, String ascii) {
        int len = we[i] - ws[i];
        if (len != ascii.length()) {
            return false;
        }
        for (int k = 0; k < len; k++) {
            if (lb[ws[i] + k] != ascii.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    protected boolean isBlankLine() {
        for (int i = ls; i < le; i++) {
            if ((lb[i] & 0xff) > ' ') {
                return false;
            }
        }
        return true;
    }

    /** Word {@code i} as a volume name, the same {@code String} as long as it does not change. */
    protected String wordAsVolume(int i) {
        return volume(ws[i], we[i]);
    }

    /** {@code lb[from, to)} as a volume name, the same {@code String} as long as it does not change. */
    protected String volume(int from, int to) {
        if (lastVolumeString == null || !java.util.Arrays.equals(lb, from, to, lastVolume, 0, lastVolume.length)) {
            lastVolume = java.util.Arrays.copyOfRange(lb, from, to);
            lastVolumeString = new String(lastVolume, StandardCharsets.UTF_8);
        }
        return lastVolumeString;
    }

    /** Whether the current line holds the last volume name's bytes at {@code from}, followed by a blank. */
    protected boolean sameVolume(int from) {
        int n = lastVolume.length;
        return lastVolumeString != null && n > 0 && from + n < le && (lb[from + n] & 0xff) <= ' '
                && java.util.Arrays.equals(lb, from, from + n, lastVolume, 0, n);
    }

    protected String lastVolume() {
        return lastVolumeString;
    }

    protected int lastVolumeBytes() {
        return lastVolume.length;
    }

    /** Digits in {@code b[from, to)} as a long; -1 when not all digits, empty, or overflowing. */
    static long digits(byte[] b, int from, int to) {
        if (from >= to || to - from > 18 && !fitsLong(b, from, to)) {
            return -1;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }

    private static boolean fitsLong(byte[] b, int from, int to) {
        try {
            Long.parseLong(new String(b, from, to - from, StandardCharsets.ISO_8859_1));
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Word {@code i} as an integer (sign allowed); an error naming {@code what} otherwise. */
    protected long wordLong(int i, String what) throws TraceFormatException {
        int from = ws[i];
        int to = we[i];
        boolean neg = false;
        if (to - from > 1 && (lb[from] == '-' || lb[from] == '+')) {
            neg = lb[from] == '-';
            from++;
        }
        long v = digits(lb, from, to);
        if (v < 0) {
            throw bad("expected " + what + " (an integer), got '" + word(i) + "'", lineText());
        }
        return neg ? -v : v;
    }

    /** Word {@code i} as an integer that must not be negative ({@code what} names it in errors). */
    protected long wordNonNegative(int i, String expected, String what) throws TraceFormatException {
        long v = wordLong(i, expected);
        if (v < 0) {
            throw bad(what + " is negative (" + v + ")", lineText());
        }
        return v;
    }

    /** Word {@code i}, decimal seconds ("12.000345678"), to ns without floating point. */
    protected long wordSecondsToNs(int i) throws TraceFormatException {
        int from = ws[i];
        int to = we[i];
        int dot = -1;
        for (int k = from; k < to; k++) {
            if (lb[k] == '.') {
                dot = k;
                break;
            }
        }
        long sec = digits(lb, from, dot < 0 ? to : dot);
        long ns = 0;
        if (dot >= 0 && dot + 1 < to) {
            int fend = Math.min(to, dot + 10);
            ns = digits(lb, dot + 1, fend);
            for (int k = fend - dot - 1; k < 9 && ns >= 0; k++) {
                ns *= 10;
            }
            if (ns >= 0 && to > fend && digits(lb, fend, to) < 0) {
                ns = -1; // digits past the ninth are dropped, but must be digits
            }
        }
        if (sec < 0 || ns < 0 || sec > Long.MAX_VALUE / 1_000_000_000L - 1) {
            throw bad("expected a time in seconds (e.g. 12.000345678), got '" + word(i) + "'", lineText());
        }
        return sec * 1_000_000_000L + ns;
    }

    protected TraceFormatException bad(String what, String line) {
        String shown = line.length() > 120 ? line.substring(0, 120) + "…" : line;
        shown = shown.codePoints().map(c -> c < 32 && c != 9 || c == 0xfffd || c > 126 && c < 160 ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return new TraceFormatException(file, lineNo, what + ": '" + shown + "'");
    }

    /** Times are reported relative to the first record. */
    protected long relative(long absNs) {
        if (firstTimeNs == Long.MIN_VALUE) {
            firstTimeNs = absNs;
        }
        return absNs - firstTimeNs;
    }

    protected long parseLong(String s, String what, String line) throws TraceFormatException {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw bad("expected " + what + " (an integer), got '" + s.trim() + "'", line);
        }
    }

    protected long nonNegative(long v, String what, String line) throws TraceFormatException {
        if (v < 0) {
            throw bad(what + " is negative (" + v + ")", line);
        }
        return v;
    }

    /** Decimal seconds ("12.000345678") to ns, without floating point. */
    protected long secondsToNs(String s, String line) throws TraceFormatException {
        String t = s.trim();
        int dot = t.indexOf('.');
        try {
            long sec = Long.parseLong(dot < 0 ? t : t.substring(0, dot));
            long ns = 0;
            if (dot >= 0) {
                String frac = t.substring(dot + 1);
                if (frac.length() > 9) {
                    frac = frac.substring(0, 9);
                }
                if (!frac.isEmpty()) {
                    ns = Long.parseLong(frac);
                    for (int i = frac.length(); i < 9; i++) {
                        ns *= 10;
                    }
                }
            }
            if (sec < 0 || ns < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(sec, 1_000_000_000L) + ns;
        } catch (NumberFormatException | ArithmeticException e) {
            throw bad("expected a time in seconds (e.g. 12.000345678), got '" + t + "'", line);
        }
    }

    /** Split on runs of blanks (no regular expression: this is the hot path of text traces). */
    static String[] words(String line) {
        int n = 0;
        int len = line.length();
        String[] out = new String[8];
        int i = 0;
        while (i < len) {
            while (i < len && line.charAt(i) <= ' ') {
                i++;
            }
            if (i >= len) {
                break;
            }
            int start = i;
            while (i < len && line.charAt(i) > ' ') {
                i++;
            }
            if (n == out.length) {
                out = java.util.Arrays.copyOf(out, n * 2);
            }
            out[n++] = line.substring(start, i);
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Split on one delimiter character, keeping empty fields (as {@code split(d, -1)}). */
    static String[] fields(String line, char d) {
        int n = 1;
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == d) {
                n++;
            }
        }
        String[] out = new String[n];
        int k = 0;
        int start = 0;
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == d) {
                out[k++] = line.substring(start, i);
                start = i + 1;
            }
        }
        out[k] = line.substring(start);
        return out;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
