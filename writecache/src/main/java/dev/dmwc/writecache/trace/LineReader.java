package dev.dmwc.writecache.trace;

import java.io.BufferedReader;
import java.io.IOException;

/** Shared plumbing of the text formats: line numbers, errors naming file:line. */
abstract class LineReader implements TraceReader {
    protected final BufferedReader in;
    protected final String file;
    protected long lineNo;
    protected long firstTimeNs = Long.MIN_VALUE;

    LineReader(BufferedReader in, String file) {
        this.in = in;
        this.file = file;
    }

    /** The next line, or null at the end. */
    protected String line() throws IOException {
        String l = in.readLine();
        if (l != null) {
            lineNo++;
        }
        return l;
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
