package dev.dmwc.writecache.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.writecache.trace.TraceFormatException;
import dev.dmwc.writecache.trace.TraceReader;
import dev.dmwc.writecache.trace.TraceRecord;
import dev.dmwc.writecache.trace.TraceRecord.Op;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A trace as a WCSCRIPT: one op a bio, in order, and a script the runner parses and runs. */
class TraceScriptTest {
    @TempDir
    Path dir;

    /** The records given, as a trace reader (positions 1, 2, … as line numbers). */
    static TraceReader trace(TraceRecord... records) {
        Iterator<TraceRecord> it = List.of(records).iterator();
        return new TraceReader() {
            long line;

            @Override
            public boolean next(TraceRecord r) {
                if (!it.hasNext()) {
                    return false;
                }
                TraceRecord n = it.next();
                r.set(n.timeNs, n.op, n.offset, n.length, n.flags, null, ++line);
                return true;
            }

            @Override
            public String format() {
                return "test";
            }

            @Override
            public void close() {
            }
        };
    }

    static TraceRecord rec(Op op, long offset, long length, int flags) {
        return new TraceRecord().set(0, op, offset, length, flags, null, 0);
    }

    static final TraceRecord[] SAMPLE = {
        rec(Op.READ, 0, 8192, 0), // two 4 KiB blocks
        rec(Op.WRITE, 4096, 12288, TraceRecord.PREFLUSH | TraceRecord.FUA), // fsync's journal commit block
        rec(Op.FLUSH, 0, 0, 0),
        rec(Op.WRITE, 1024, 512, 0), // one sector: a misaligned bio, as the trace had it
        rec(Op.DISCARD, 1 << 20, 1 << 20, 0),
        rec(Op.WRITE, 0, 0, TraceRecord.PREFLUSH), // an empty write with PREFLUSH: the flush alone
        rec(Op.READ, 2048, 4096, 0), // across a block boundary
    };

    static String script(TraceScript.Settings s, TraceRecord... records) throws Exception {
        StringWriter w = new StringWriter();
        TraceScript.Written done = TraceScript.write(trace(records), s, List.of("head"), w);
        assertEquals(s.maxRequests() == 0 ? records.length : Math.min(records.length, s.maxRequests()), done.requests());
        assertEquals(w.toString().lines().filter(l -> !l.startsWith("#")).count(), done.ops(), "ops counted");
        return w.toString();
    }

    @Test
    void eachRequestIsTheOpThatSendsTheSameBio() throws Exception {
        var s = new TraceScript.Settings(null, 4096, List.of("autocommit_time", "3600000"), 4 << 20, 8 << 20, 0, false, 2048);
        assertEquals("""
                # head
                origin 4M
                cache 8M
                table @ 4096 2 autocommit_time 3600000
                create
                read 0 16
                flush
                write 8 24 w1 fua
                flush
                write 2 1 w2
                discard 2048 2048
                flush
                read 4 8
                status
                message flush
                settle
                status
                remove
                """, script(s, SAMPLE));
        assertEquals(1, TraceScript.write(trace(SAMPLE), s, List.of(), java.io.Writer.nullWriter()).emptyRequests(),
                "the empty write with PREFLUSH: its flush written, the write itself counted as having no op");
    }

    /** A write over 1 MiB goes as writes of 1 MiB, each with its tag and FUA; 0 keeps it whole. */
    @Test
    void aLongWriteGoesAsWritesOfAtMostOneMebibyte() throws Exception {
        var s = new TraceScript.Settings(null, 4096, List.of(), 8 << 20, 8 << 20, 0, false, 2048);
        assertEquals(List.of("write 8 2048 w1 fua", "write 2056 2048 w1 fua", "write 4104 8 w1 fua"),
                script(s, rec(Op.WRITE, 4096, (2 << 20) + 4096, TraceRecord.FUA)).lines().filter(l -> l.startsWith("write")).toList());
        var whole = new TraceScript.Settings(null, 4096, List.of(), 8 << 20, 8 << 20, 0, false, 0);
        assertEquals(List.of("write 8 4104 w1"), script(whole, rec(Op.WRITE, 4096, (2 << 20) + 4096, 0)).lines()
                .filter(l -> l.startsWith("write")).toList());
    }

    /**
     * What the kernel's clock decides is told about: write-back started by writes past the high
     * watermark's share of the cache (in ssd mode the pause, unless the table sets it to 0; in
     * pmem mode the kernel's own runs may differ), the commit timer of a table without
     * autocommit_time, cleaner and max_age.
     */
    @Test
    void aScriptWithPartsTheClockDecidesSaysWhich() {
        long cache = 100 << 20;
        java.util.function.BiFunction<String, String, TraceScript.Settings> table = (mode, features) ->
                new TraceScript.Settings(mode, 4096, List.of(("autocommit_time 3600000 " + features).trim().split(" ")), 1 << 30,
                        cache, 0, false, 2048);
        assertNull(TraceScript.timingNote(table.apply(null, ""), cache / 2 - 4096), "below the high watermark");
        String both = TraceScript.timingNote(table.apply(null, ""), cache / 2);
        assertTrue(both.startsWith("note: The script writes 50% of the cache's size") && both.contains("until 3000 ms after")
                && both.contains("--table 's 4096 4 autocommit_time 3600000 pause_writeback 0' makes") && both.contains("In pmem mode"), both);
        String ssd = TraceScript.timingNote(table.apply("s", "pause_writeback 500 writeback_jobs 64"), 3 * cache);
        assertTrue(ssd.contains("writes 300%") && ssd.contains("until 500 ms after") && !ssd.contains("pmem")
                && ssd.contains("--table 's 4096 6 autocommit_time 3600000 pause_writeback 0 writeback_jobs 64'"), ssd);
        assertNull(TraceScript.timingNote(table.apply("s", "pause_writeback 0"), 3 * cache), "ssd, the pause taken away");
        assertNull(TraceScript.timingNote(table.apply("s", "PAUSE_WRITEBACK 00"), 3 * cache), "as the kernel reads it");
        String upper = TraceScript.timingNote(table.apply("s", "Pause_Writeback 700"), 3 * cache);
        assertTrue(upper.contains("until 700 ms after") && upper.contains("--table 's 4096 4 autocommit_time 3600000 Pause_Writeback 0'"),
                upper);
        String either = TraceScript.timingNote(table.apply(null, "pause_writeback 0"), 3 * cache);
        assertTrue(either.contains("writes 300%") && either.contains("In pmem mode") && !either.contains("In ssd mode"), either);
        String pmem = TraceScript.timingNote(table.apply("p", ""), 3 * cache);
        assertTrue(pmem.contains("In pmem mode") && !pmem.contains("ssd"), pmem);
        assertNull(TraceScript.timingNote(table.apply("s", "high_watermark 80"), cache * 79 / 100), "the table's own high watermark");
        assertNotNull(TraceScript.timingNote(table.apply("s", "high_watermark 80"), cache * 80 / 100));
        String commits = TraceScript.timingNote(new TraceScript.Settings("s", 4096, List.of(), 1 << 30, cache, 0, false, 2048), 0);
        assertTrue(commits.startsWith("note: The table has no autocommit_time"), commits);
        String cleaner = TraceScript.timingNote(table.apply("s", "cleaner max_age 1000"), 0);
        assertTrue(cleaner.startsWith("note: Cleaner writes back from the start and max_age writes back blocks as they age"), cleaner);
    }

    @Test
    void pmemModeHasAnNvdimmAndSplitReadsOneABlock() throws Exception {
        var s = new TraceScript.Settings("p", 4096, List.of(), 4 << 20, 20 << 20, 3, true, 2048);
        String out = script(s, SAMPLE);
        List<String> lines = out.lines().toList();
        assertEquals("pmem 32M", lines.get(2), "20 MiB and the namespace's 2 MiB, in 16 MiB steps");
        assertEquals("table p 4096 0", lines.get(3));
        assertEquals(List.of("read 0 8", "read 8 8", "flush", "write 8 24 w1 fua", "flush", "status"), lines.subList(5, 11),
                "the first three requests, the read a block at a time");
        var sub = new TraceScript.Settings("p", 4096, List.of(), 4 << 20, 20 << 20, 0, true, 2048);
        assertEquals(List.of("read 4 4", "read 8 4"), script(sub, SAMPLE).lines().filter(l -> l.startsWith("read 4") || l.startsWith("read 8 4")).toList(),
                "a read across a block boundary splits there");
    }

    @Test
    void aRequestOfPartSectorsIsRefusedNamingWhere() throws Exception {
        TraceFormatException e = assertThrows(TraceFormatException.class, () -> TraceScript.scan(trace(rec(Op.READ, 0, 4096, 0),
                rec(Op.WRITE, 100, 512, 0)), "t.log", 0));
        assertEquals("t.log:2: write at byte 100 of 512 bytes is not whole 512-byte sectors, which a WCSCRIPT op addresses",
                e.getMessage());
        TraceScript.Scan sc = TraceScript.scan(trace(SAMPLE), "t.log", 0);
        assertEquals(7, sc.requests);
        assertEquals(2 << 20, sc.extent);
        assertEquals(4 * 4096, sc.written.bytes(), "pages 1-3 written, and page 0 by the one-sector write");
        assertEquals(2, TraceScript.scan(trace(SAMPLE), "t.log", 2).requests, "only the first requests");
    }

    /**
     * A gzipped script ({@code trace convert … .wcs.gz}) reads as its text; a file that is not text,
     * or a gzip that does not unpack, is refused naming the file and line (it was a
     * MalformedInputException with neither).
     */
    @Test
    void aGzippedScriptReadsAsItsTextAndOneThatIsNotTextIsRefused() throws Exception {
        var s = new TraceScript.Settings(null, 4096, List.of(), 4 << 20, 8 << 20, 0, false, 2048);
        String text = script(s, SAMPLE);
        Path plain = dir.resolve("t.wcs");
        Files.writeString(plain, text);
        Path gz = dir.resolve("t.wcs.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        assertEquals(WcScript.readLines(plain), WcScript.readLines(gz));
        assertEquals(WcScript.parse(plain, null).ops, WcScript.parse(gz, null).ops);
        Path binary = dir.resolve("b.wcs");
        Files.write(binary, new byte[] {'o', 'r', 'i', 'g', 'i', 'n', ' ', '1', 'M', '\n', 'c', 'a', 'c', 'h', 'e', ' ', '1', 'M', '\n',
            (byte) 0xff, (byte) 0xfe, '\n'});
        WcScript.ScriptException e = assertThrows(WcScript.ScriptException.class, () -> WcScript.parse(binary, null));
        assertEquals(binary + ":3: not a text script: a byte that is not UTF-8", e.getMessage());
        Path broken = dir.resolve("g.wcs");
        Files.write(broken, new byte[] {0x1f, (byte) 0x8b, 'x', 'x', 'x', 'x'});
        e = assertThrows(WcScript.ScriptException.class, () -> WcScript.parse(broken, null));
        assertTrue(e.getMessage().startsWith(broken + ":1: a gzip file that does not unpack"), e.getMessage());
    }

    /** The script is one the runner reads as the kernel's runner does, and runs to the end. */
    @Test
    void theScriptRunsInDmwc() throws Exception {
        List<TraceRecord> many = new ArrayList<>(List.of(SAMPLE));
        for (int i = 0; i < 200; i++) {
            many.add(rec(i % 3 == 0 ? Op.READ : Op.WRITE, (i * 7919L % 1024) * 4096, 4096 * (1 + i % 4), i % 10 == 0 ? TraceRecord.FUA : 0));
        }
        var s = new TraceScript.Settings(null, 4096, List.of("autocommit_time", "3600000"), 8 << 20, 8 << 20, 0, false, 2048);
        Path wcs = dir.resolve("t.wcs");
        Files.writeString(wcs, script(s, many.toArray(TraceRecord[]::new)));
        Path out = dir.resolve("out");
        new ScriptRunner(WcScript.parse(wcs, null), out, dev.dmwc.daxlib.ProtectionKeys.Backend.SOFTWARE,
                dev.dmwc.daxlib.FaultMode.STRICT).run();
        List<String> t = Files.readAllLines(out.resolve("transcript.txt"));
        List<String> status = t.stream().filter(l -> l.startsWith("status ")).toList();
        assertEquals(2, status.size(), String.join("\n", t));
        assertEquals("0", status.get(1).split(" ")[4], "nothing under write-back after the settle: " + status.get(1));
        assertEquals(status.get(1).split(" ")[2], status.get(1).split(" ")[3], "every block free after the write-back");
        assertEquals(2, t.stream().filter(l -> l.equals("error EINVAL")).count(), "the one-sector write and the read across "
                + "a block boundary are refused, as a 4 KiB-block target refuses them: " + String.join("\n", t));
    }
}
