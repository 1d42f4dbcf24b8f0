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

    FioIologReader(InputStream in, String file, int version) {
        super(in, file);
        this.version = version;
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
}
