package dev.dmwc.writecache.trace;

import java.io.BufferedReader;
import java.io.IOException;

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

    FioIologReader(BufferedReader in, String file, int version) {
        super(in, file);
        this.version = version;
    }

    @Override
    public String format() {
        return version == 2 ? "fio2" : "fio3";
    }

    @Override
    public boolean next(TraceRecord r) throws IOException, TraceFormatException {
        String l;
        while ((l = line()) != null) {
            if (lineNo == 1) {
                String want = "fio version " + version + " iolog";
                if (!l.trim().equals(want)) {
                    throw bad("expected the header '" + want + "'", l);
                }
                continue;
            }
            String s = l.trim();
            if (s.isEmpty()) {
                continue;
            }
            String[] t = words(s);
            int i = 0;
            long time = waitNs;
            if (version == 3) {
                if (t.length < 3) {
                    throw bad("expected '<µs> <file> <action> [<offset> <length>]'", l);
                }
                long us = nonNegative(parseLong(t[0], "a timestamp in µs", l), "timestamp", l);
                time = relative(us * 1000);
                i = 1;
            } else if (t.length < 2) {
                throw bad("expected '<file> <action> [<offset> <length>]'", l);
            }
            String fileName = t[i];
            String action = t[i + 1];
            switch (action) {
                case "add", "open", "close" -> {
                    continue;
                }
                case "wait" -> {
                    if (version == 3) {
                        continue; // fio: "ignoring wait command with version 3"
                    }
                    if (t.length < 3) {
                        throw bad("expected 'wait <milliseconds>'", l);
                    }
                    waitNs = nonNegative(parseLong(t[i + 2], "a wait time", l), "wait", l) * 1_000_000L;
                    continue;
                }
                case "read", "write", "trim", "sync", "datasync" -> { }
                default -> throw bad("unknown iolog action '" + action
                        + "' (expected add, open, close, read, write, trim, sync, datasync, wait)", l);
            }
            if (action.equals("sync") || action.equals("datasync")) {
                r.set(time, TraceRecord.Op.FLUSH, 0, 0, TraceRecord.PREFLUSH, fileName, lineNo);
                return true;
            }
            if (t.length < i + 4) {
                throw bad("'" + action + "' needs <offset> <length> in bytes", l);
            }
            long off = nonNegative(parseLong(t[i + 2], "an offset in bytes", l), "offset", l);
            long len = nonNegative(parseLong(t[i + 3], "a length in bytes", l), "length", l);
            if (len == 0) {
                continue;
            }
            TraceRecord.Op op = action.equals("read") ? TraceRecord.Op.READ
                    : action.equals("write") ? TraceRecord.Op.WRITE : TraceRecord.Op.DISCARD;
            r.set(time, op, off, len, 0, fileName, lineNo);
            return true;
        }
        return false;
    }
}
