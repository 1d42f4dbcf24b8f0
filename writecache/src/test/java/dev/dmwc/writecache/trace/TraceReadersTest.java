package dev.dmwc.writecache.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every reader on real traces (test-data/traces) and hand-made edge cases (test-data/traces/edge). */
class TraceReadersTest {
    static final Path TRACES = Path.of("..", "test-data", "traces");
    static final Path EDGE = TRACES.resolve("edge");

    @TempDir
    Path dir;

    static List<TraceRecord> readAll(Path p, String format) throws Exception {
        List<TraceRecord> out = new ArrayList<>();
        try (TraceReader in = Traces.open(p, new Traces.Options(format, "Q"))) {
            TraceRecord r = new TraceRecord();
            while (in.next(r)) {
                out.add(r.copy());
            }
        }
        return out;
    }

    /**
     * Several files read as one trace: each after the one before, its times (from 0 in every file)
     * continuing from the last time before it; formats detected per file; a bad line named by its
     * own file.
     */
    @Test
    void severalFilesAreOneTraceTheirTimesContinuing() throws Exception {
        Path a = Files.writeString(dir.resolve("a.iolog"), "fio version 3 iolog\n0 f add\n0 f open\n1000 f write 0 4096\n3000 f read 0 4096\n");
        Path b = Files.writeString(dir.resolve("b.iolog"), "fio version 3 iolog\n0 f add\n0 f open\n500 f write 8192 4096\n");
        Path c = EDGE.resolve("blkparse-small.txt");
        List<TraceRecord> one = readAll(a, null);
        List<TraceRecord> all = new ArrayList<>();
        String format;
        try (TraceReader in = Traces.open(List.of(a, b, c), new Traces.Options(null, "Q"), null)) {
            format = in.format();
            TraceRecord r = new TraceRecord();
            while (in.next(r)) {
                all.add(r.copy());
            }
        }
        assertEquals("fio3+blkparse", format);
        List<TraceRecord> bAlone = readAll(b, null);
        List<TraceRecord> cAlone = readAll(c, null);
        assertEquals(one.size() + bAlone.size() + cAlone.size(), all.size());
        long aEnd = one.get(one.size() - 1).timeNs;
        TraceRecord firstOfB = all.get(one.size());
        assertEquals(8192, firstOfB.offset);
        assertEquals(aEnd + bAlone.get(0).timeNs, firstOfB.timeNs, "b's times continue from a's last");
        long bEnd = all.get(one.size() + bAlone.size() - 1).timeNs;
        assertEquals(bEnd + cAlone.get(0).timeNs, all.get(one.size() + bAlone.size()).timeNs);
        for (int i = 1; i < all.size(); i++) {
            assertTrue(all.get(i).timeNs >= all.get(i - 1).timeNs, "time order at " + i);
        }
        Path bad = Files.writeString(dir.resolve("bad.iolog"), "fio version 3 iolog\n0 f add\n0 f open\n10 f write x 4096\n");
        TraceFormatException e = assertThrows(TraceFormatException.class, () -> {
            try (TraceReader in = Traces.open(List.of(a, bad), new Traces.Options(null, "Q"), null)) {
                TraceRecord r = new TraceRecord();
                while (in.next(r)) {
                    // read to the bad line
                }
            }
        });
        assertTrue(e.getMessage().contains("bad.iolog:4"), e.getMessage());
        IOException missing = assertThrows(IOException.class, () -> Traces.open(List.of(a, dir.resolve("none")), new Traces.Options(null, "Q"), null));
        assertTrue(missing.getMessage().contains("no such trace file"), missing.getMessage());
    }

    /** The Q counts of the real traces (shared/traces/README.md, "Counts"). */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "ext4-tree.blkparse.txt.gz, blkparse, 10704",
        "ext4-tree.blktrace.0.gz, blktrace, 10704",
        "ext4-tree.blktrace.1.gz, blktrace, 10704",
    })
    void realTracesGiveEveryQueuedBio(String file, String format, int q) throws Exception {
        assertEquals(format, Traces.detect(TRACES.resolve(file)));
        List<TraceRecord> all = readAll(TRACES.resolve(file), null);
        assertEquals(q, all.size());
        // README: 3642 reads, 891 discards, 16 PREFLUSH (11 empty), 9 FUA
        assertEquals(3642, all.stream().filter(r -> r.op == TraceRecord.Op.READ).count());
        assertEquals(891, all.stream().filter(r -> r.op == TraceRecord.Op.DISCARD).count());
        assertEquals(11, all.stream().filter(r -> r.op == TraceRecord.Op.FLUSH).count());
        assertEquals(16, all.stream().filter(r -> r.has(TraceRecord.PREFLUSH)).count());
        assertEquals(9, all.stream().filter(r -> r.has(TraceRecord.FUA)).count());
        assertEquals("254,16", all.get(0).volume);
        for (int i = 1; i < all.size(); i++) {
            assertTrue(all.get(i).timeNs >= all.get(i - 1).timeNs, "time order at " + i);
        }
    }

    /** A directory as blktrace -D leaves it: its per-CPU files, merged; anything else in it is not a trace. */
    @Test
    void aDirectoryOfOneBlktraceCaptureIsThatCapture() throws Exception {
        Path capture = Files.createDirectory(dir.resolve("capture"));
        for (String f : List.of("ext4-tree.blktrace.0.gz", "ext4-tree.blktrace.1.gz")) {
            Files.copy(TRACES.resolve(f), capture.resolve(f));
        }
        Files.writeString(capture.resolve("notes.txt"), "not a trace\n");
        Path resolved = Traces.resolve(capture);
        assertEquals(capture.resolve("ext4-tree.blktrace.0.gz"), resolved);
        assertEquals(10704, readAll(resolved, null).size());
        assertEquals(TRACES.resolve("ext4-tree.iolog.gz"), Traces.resolve(TRACES.resolve("ext4-tree.iolog.gz")));

        Files.copy(TRACES.resolve("ext4-tree.blktrace.0.gz"), capture.resolve("sdb.blktrace.0.gz"));
        IllegalArgumentException two = assertThrows(IllegalArgumentException.class, () -> Traces.resolve(capture));
        assertTrue(two.getMessage().contains("2 devices (ext4-tree.blktrace.*, sdb.blktrace.*)"), two.getMessage());

        Path empty = Files.createDirectory(dir.resolve("empty"));
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> Traces.resolve(empty));
        assertTrue(none.getMessage().startsWith(empty + " is a directory with no blktrace"), none.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> Traces.resolve(dir.resolve("missing")));
        assertEquals("no such trace file: " + dir.resolve("missing"), missing.getMessage());
    }

    @Test
    void textAndBinaryFormsOfOneTraceAgreeRecordForRecord() throws Exception {
        List<TraceRecord> text = readAll(TRACES.resolve("ext4-tree.blkparse.txt.gz"), null);
        List<TraceRecord> bin = readAll(TRACES.resolve("ext4-tree.blktrace.0.gz"), null);
        for (int i = 0; i < text.size(); i++) {
            TraceRecord a = text.get(i);
            TraceRecord b = bin.get(i);
            assertEquals(a.op + " " + a.offset + "+" + a.length + " " + a.flags + " @" + a.timeNs,
                    b.op + " " + b.offset + "+" + b.length + " " + b.flags + " @" + b.timeNs, "record " + i);
        }
    }

    @Test
    void fioLogsV2AndV3() throws Exception {
        assertEquals("fio2", Traces.detect(TRACES.resolve("ext4-tree.iolog.gz")));
        assertEquals("fio3", Traces.detect(TRACES.resolve("ext4-tree.v3.iolog.gz")));
        List<TraceRecord> v3 = readAll(TRACES.resolve("ext4-tree.v3.iolog.gz"), null);
        assertEquals(readAll(TRACES.resolve("ext4-tree.iolog.gz"), null).size(), v3.size());
        assertTrue(v3.get(v3.size() - 1).timeNs > 6_000_000_000L, "µs timestamps: the trace spans 6.6 s");

        List<TraceRecord> w = readAll(EDGE.resolve("fio2-wait.iolog"), null);
        assertEquals(List.of("WRITE", "READ", "FLUSH", "DISCARD"), w.stream().map(r -> r.op.name()).toList());
        assertEquals(-1, w.get(0).timeNs);
        assertEquals(5_000_000L, w.get(1).timeNs, "wait 5 = 5 ms since start, as fio's code reads it");
        List<TraceRecord> f3 = readAll(EDGE.resolve("fio3.iolog"), null);
        assertEquals(2, f3.size());
        assertEquals(TraceRecord.Op.FLUSH, f3.get(1).op);
        assertEquals((121318 - 20) * 1000L, f3.get(1).timeNs, "µs since the log's first entry");
    }

    @Test
    void csvFamilies() throws Exception {
        assertEquals("msr", Traces.detect(EDGE.resolve("msr-wdev_0.csv")));
        List<TraceRecord> msr = readAll(EDGE.resolve("msr-wdev_0.csv"), null);
        assertEquals(3, msr.size());
        assertEquals("wdev_0", msr.get(0).volume);
        assertEquals(1_332_052_600L, msr.get(1).timeNs, "FILETIME ticks of 100 ns");
        assertEquals(1, readAll(EDGE.resolve("msr-header.csv"), "msr").size());

        assertEquals("alibaba", Traces.detect(EDGE.resolve("alibaba.csv")));
        List<TraceRecord> ali = readAll(EDGE.resolve("alibaba.csv"), null);
        assertEquals(1_000_000L, ali.get(1).timeNs);
        assertEquals(8192, ali.get(1).offset);

        assertEquals("tencent", Traces.detect(EDGE.resolve("tencent.csv")));
        List<TraceRecord> ten = readAll(EDGE.resolve("tencent.csv"), null);
        assertEquals(TraceRecord.Op.WRITE, ten.get(0).op);
        assertEquals(TraceRecord.Op.READ, ten.get(1).op);
        assertEquals(16 * 512, ten.get(0).offset);
        assertEquals(8 * 512, ten.get(0).length);
        assertEquals("1063", ten.get(0).volume);

        List<TraceRecord> gen = readAll(EDGE.resolve("generic-semicolon.csv"),
                "csv:time=1:us,op=2,offset=3:sectors,size=4:sectors,delimiter=semicolon,header=true");
        assertEquals(3, gen.size());
        assertEquals(4096, gen.get(1).offset);
        assertEquals(1_500_000L, gen.get(2).timeNs - gen.get(1).timeNs);
    }

    @Test
    void malformedLinesNameFileLineAndWhatWasExpected() throws Exception {
        Path spc = EDGE.resolve("spc-with-bad-line.csv");
        assertEquals("spc", Traces.detect(spc));
        TraceFormatException e = assertThrows(TraceFormatException.class, () -> readAll(spc, null));
        assertEquals(4, e.position());
        assertTrue(e.getMessage().contains("spc-with-bad-line.csv:4") && e.getMessage().contains("time in seconds"),
                e.getMessage());

        TraceFormatException u = assertThrows(TraceFormatException.class, () -> readAll(EDGE.resolve("blkparse-unknown-op.txt"), null));
        assertEquals(2, u.position());
        assertTrue(u.getMessage().contains("unknown RWBS op 'X'"), u.getMessage());

        Path neg = dir.resolve("neg.iolog");
        Files.writeString(neg, "fio version 2 iolog\nf write -4096 4096\n");
        TraceFormatException n = assertThrows(TraceFormatException.class, () -> readAll(neg, null));
        assertTrue(n.getMessage().contains(":2:") && n.getMessage().contains("negative"), n.getMessage());

        Path big = dir.resolve("big.csv");
        Files.writeString(big, "0,99999999999999999999999,8192,W,0.1\n");
        TraceFormatException o = assertThrows(TraceFormatException.class, () -> readAll(big, "spc"));
        assertTrue(o.getMessage().contains("an offset"), o.getMessage());

        Path unknown = dir.resolve("x.iolog");
        Files.writeString(unknown, "fio version 3 iolog\n10 f frobnicate 0 1\n");
        assertTrue(assertThrows(TraceFormatException.class, () -> readAll(unknown, null)).getMessage().contains("unknown iolog action"));
    }

    @Test
    void binaryGivenAsTextAndTruncatedGzipAreClearErrors() throws Exception {
        Path bin = dir.resolve("junk.bin");
        Files.write(bin, new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        TraceFormatException b = assertThrows(TraceFormatException.class, () -> Traces.detect(bin));
        assertTrue(b.getMessage().contains("binary data"), b.getMessage());
        TraceFormatException t = assertThrows(TraceFormatException.class,
                () -> readAll(TRACES.resolve("ext4-tree.blktrace.0.gz"), "blkparse"));
        assertTrue(t.getMessage().contains(":1: expected a blkparse event"), t.getMessage());

        byte[] whole = Files.readAllBytes(TRACES.resolve("ext4-tree.v3.iolog.gz"));
        Path cut = dir.resolve("cut.iolog.gz");
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length / 2));
        IOException c = assertThrows(IOException.class, () -> readAll(cut, null));
        assertTrue(c.getMessage().contains("truncated or corrupt gzip"), c.getMessage());
    }

    static List<String> readText(Path p, Traces.Memo memo) throws Exception {
        List<String> out = new ArrayList<>();
        try (TraceReader in = Traces.open(p, Traces.Options.defaults(), memo)) {
            TraceRecord r = new TraceRecord();
            while (in.next(r)) {
                out.add(r.toString());
            }
        }
        return out;
    }

    /** replay --loops: files inflated once and kept; the same records every time; what does not fit or fails is streamed. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"ext4-fsync.v3.iolog.gz", "ext4-tree.blkparse.txt.gz", "ext4-tree.blktrace.0.gz"})
    void aMemoGivesTheSameRecordsEveryPass(String file) throws Exception {
        Path p = TRACES.resolve(file);
        List<String> streamed = readText(p, null);
        Traces.Memo memo = new Traces.Memo();
        assertEquals(streamed, readText(p, memo));
        long held = memo.heldBytes();
        assertTrue(held > Files.size(p), "the decompressed bytes are held: " + held);
        assertEquals(streamed, readText(p, memo), "a second pass, from memory");
        assertEquals(held, memo.heldBytes(), "read once");
        Traces.Memo tiny = new Traces.Memo(1000);
        assertEquals(streamed, readText(p, tiny));
        assertEquals(0, tiny.heldBytes(), "over the limit: streamed, not held");

        // the limit is on everything held: a second file that does not fit beside the first is streamed
        Traces.Memo one = new Traces.Memo(held + 1000);
        assertEquals(streamed, readText(p, one));
        Path other = TRACES.resolve("ext4-tree.v3.iolog.gz");
        List<String> otherStreamed = readText(other, null);
        assertEquals(otherStreamed, readText(other, one));
        assertEquals(held, one.heldBytes(), "the second file is streamed, not held");

        byte[] whole = Files.readAllBytes(TRACES.resolve("ext4-tree.v3.iolog.gz"));
        Path cut = dir.resolve("cut-memo.iolog.gz");
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length / 2));
        Traces.Memo m = new Traces.Memo();
        IOException c = assertThrows(IOException.class, () -> readText(cut, m));
        assertTrue(c.getMessage().contains("truncated or corrupt gzip"), "the same error as streamed: " + c.getMessage());
        assertEquals(0, m.heldBytes());
    }

    /** A memo detects each file's format once (every pass of a looped replay reopens the file); a failed detection is not kept. */
    @Test
    void aMemoDetectsEachFormatOnceAndDoesNotKeepAFailure() throws Exception {
        Path p = dir.resolve("looped.iolog");
        Files.writeString(p, "fio version 3 iolog\n0 f write 0 4096\n");
        Traces.Memo memo = new Traces.Memo();
        assertEquals("fio3", memo.detect(p));
        Files.writeString(p, "fio version 2 iolog\nf write 0 4096\n"); // what a second detection would see
        assertEquals("fio3", memo.detect(p), "detected once");
        assertEquals("fio2", Traces.detect(p));

        Path bad = dir.resolve("bad.trace");
        Files.write(bad, new byte[] {1, 2, 3, 0, 5, 6, 7, 8});
        assertThrows(TraceFormatException.class, () -> memo.detect(bad));
        Files.writeString(bad, "fio version 3 iolog\n0 f read 0 4096\n");
        assertEquals("fio3", memo.detect(bad), "a failure is not remembered");
    }

    @Test
    void textTraceGzippedIsReadTransparently() throws Exception {
        Path gz = dir.resolve("small.txt.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            o.write(Files.readAllBytes(EDGE.resolve("blkparse-small.txt")));
        }
        List<TraceRecord> r = readAll(gz, null);
        assertEquals(4, r.size());
        assertEquals(1024, r.get(1).offset);
        assertEquals(TraceRecord.PREFLUSH | TraceRecord.FUA | TraceRecord.SYNC | TraceRecord.META, r.get(2).flags);
        assertEquals(TraceRecord.Op.DISCARD, r.get(3).op);
    }

    @Test
    void badCsvLayoutsAreRefusedWithTheReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CsvLayout.parse("csv:op=2,offset=3")).getMessage()
                .contains("'size=COLUMN' is required"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CsvLayout.parse("csv:op=2,offset=3,size=4,colour=5"))
                .getMessage().contains("unknown key 'colour'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CsvLayout.parse("csv:op=2,offset=3:furlongs,size=4"))
                .getMessage().contains("unit must be"));
    }

    /** The byte-level line reader: CRLF, no final newline, a line longer than its buffer, numbers at the edge of a long. */
    @Test
    void linesAreReadFromBytesWithEveryEdgeOfALine() throws Exception {
        Path crlf = dir.resolve("crlf.iolog");
        String longName = "f".repeat(100_000); // longer than the 64 KiB read buffer
        Files.writeString(crlf, "fio version 3 iolog\r\n0 a add\r\n5 a write 4096 512\r\n\r\n7 " + longName
                + " read 0 4096\r\n9 a sync\r\n11 a trim 9223372036854774784 1023"); // ends at Long.MAX_VALUE
        List<TraceRecord> rs = readAll(crlf, null);
        assertEquals(4, rs.size());
        assertEquals(TraceRecord.Op.WRITE, rs.get(0).op);
        assertEquals(4096, rs.get(0).offset);
        assertEquals(512, rs.get(0).length);
        assertEquals(3, rs.get(0).position);
        assertEquals(longName, rs.get(1).volume);
        assertEquals(7000, rs.get(1).timeNs, "µs since the first line");
        assertTrue(rs.get(2).volume == rs.get(3).volume && "a".equals(rs.get(0).volume), "one String per run of the same volume");
        assertEquals(TraceRecord.Op.FLUSH, rs.get(2).op);
        assertEquals(9223372036854774784L, rs.get(3).offset, "the last line has no newline");
        assertEquals(7, rs.get(3).position);
        // one byte more and the end passes what a long holds: a bad line, named
        Files.writeString(crlf, "fio version 3 iolog\n0 a add\n11 a trim 9223372036854774784 1024\n");
        TraceFormatException past = assertThrows(TraceFormatException.class, () -> readAll(crlf, null));
        assertTrue(past.getMessage().contains("crlf.iolog:3") && past.getMessage().contains("largest device"), past.getMessage());

        // a line of megabytes (binary data forced as text): one error naming it, then the reader goes on past it
        Path huge = dir.resolve("huge.iolog");
        Files.writeString(huge, "fio version 2 iolog\nx write 0 4096\n" + "z".repeat(3 << 20) + "\nx read 0 4096\n");
        try (TraceReader in = Traces.open(huge, new Traces.Options("fio2", "Q"))) {
            TraceRecord r = new TraceRecord();
            assertTrue(in.next(r));
            TraceFormatException h = assertThrows(TraceFormatException.class, () -> in.next(r));
            assertTrue(h.getMessage().contains("huge.iolog:3: a line longer than 1 MiB"), h.getMessage());
            assertTrue(in.next(r), "the line after the long one is read");
            assertEquals(TraceRecord.Op.READ, r.op);
            assertEquals(4, r.position);
            assertTrue(!in.next(r));
        }

        Path over = dir.resolve("over.iolog");
        Files.writeString(over, "fio version 2 iolog\nx write 9223372036854775808 512\n");
        TraceFormatException e = assertThrows(TraceFormatException.class, () -> readAll(over, null));
        assertTrue(e.getMessage().contains("over.iolog:2") && e.getMessage().contains("expected an offset in bytes (an integer), got '9223372036854775808'"),
                e.getMessage());
        Path neg = dir.resolve("neg.iolog");
        Files.writeString(neg, "fio version 2 iolog\nx write -4096 512\n");
        assertTrue(assertThrows(TraceFormatException.class, () -> readAll(neg, null)).getMessage().contains("offset is negative (-4096)"));

        Path bp = dir.resolve("bp.txt");
        Files.writeString(bp, "  8,0    1        1     0.000000000123  100  Q  WS 2048 + 8 [dd]\r\n"
                + "  8,0    1        2     1.5000000009  100  Q  FWFS 4096 + 16 [dd]\n"
                + "  8,0    1        3     2.25  100  Q  R 99999999999999999 + 8 [dd]\n");
        TraceFormatException big = assertThrows(TraceFormatException.class, () -> readAll(bp, "blkparse"));
        assertTrue(big.getMessage().contains("bp.txt:3") && big.getMessage().contains("overflows a byte offset"), big.getMessage());
        Files.writeString(bp, "  8,0    1        1     0.000000000123  100  Q  WS 2048 + 8 [dd]\r\n"
                + "  8,0    1        2     1.5000000009  100  Q  FWFS 4096 + 16 [dd]\n");
        List<TraceRecord> b = readAll(bp, "blkparse");
        assertEquals(1_500_000_000L, b.get(1).timeNs, "nine fraction digits kept, the tenth dropped");
        assertEquals(TraceRecord.PREFLUSH | TraceRecord.FUA | TraceRecord.SYNC, b.get(1).flags);
        assertEquals("8,0", b.get(0).volume);
        Files.writeString(bp, "  8,0    1        1     0.0x1  100  Q  WS 2048 + 8 [dd]\n");
        assertTrue(assertThrows(TraceFormatException.class, () -> readAll(bp, "blkparse")).getMessage().contains("expected a blkparse event"));
    }
}
