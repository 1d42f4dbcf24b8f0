package dev.dmwc.writecache.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.trace.Traces;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Replays of the real traces in both modes with --verify: zero mismatches, and the counts add up. */
class ReplayerTest {
    static final Path TRACES = Path.of("..", "test-data", "traces");

    @TempDir
    Path work;

    Replayer.Settings settings(String mode) {
        Replayer.Settings s = new Replayer.Settings();
        s.mode = mode;
        s.verify = true;
        s.workDir = work;
        s.backend = ProtectionKeys.Backend.SOFTWARE;
        s.cacheBytes = 64L << 20;
        return s;
    }

    @ParameterizedTest(name = "{0} mode {1}")
    @CsvSource({
        "ext4-tree.blkparse.txt.gz, s", "ext4-tree.blkparse.txt.gz, p",
        "ext4-tree.blktrace.0.gz, s", "ext4-tree.iolog.gz, p",
        "raw-mixed.v3.iolog.gz, s", "raw-mixed.v3.iolog.gz, p",
        "ext4-fsync.v3.iolog.gz, s", "ext4-fsync.v3.iolog.gz, p",
    })
    void realTracesReplayWithoutAMismatch(String file, String mode) throws Exception {
        ReplayReport r = new Replayer(TRACES.resolve(file), Traces.Options.defaults(), settings(mode), null).run();
        assertEquals(0, r.mismatches, r.mismatchExamples.toString());
        assertEquals(0, r.errors, r.errorExamples.toString());
        assertEquals(r.scan.records, r.requests);
        assertTrue(r.verifiedReads > 0);
        assertTrue(r.finalCheckedBytes == r.originBytes, "the whole device read back after writeback");
        Map<String, Object> json = r.toMap();
        for (String k : List.of("requests", "verified_reads", "mismatches", "requests_per_second")) {
            assertTrue(json.containsKey(k), k);
        }
        try (var files = Files.list(work)) {
            assertEquals(0, files.count(), "device files removed");
        }
    }

    @Test
    void aSmallCacheWritesBackAndStillVerifies() throws Exception {
        Replayer.Settings s = settings("s");
        s.cacheBytes = 4L << 20; // ~1000 blocks for a 190 MB workload: watermark writeback all the time
        ReplayReport r = new Replayer(TRACES.resolve("raw-mixed.v3.iolog.gz"), Traces.Options.defaults(), s, null).run();
        assertEquals(0, r.mismatches, r.mismatchExamples.toString());
        assertTrue(r.writebackBlocks > 10_000, "writeback happened: " + r.writebackBlocks);
    }

    @Test
    void loopsReplayTheTraceAgainOnTheSameDeviceAndTimeGoesOn() throws Exception {
        Path t = TRACES.resolve("ext4-fsync.v3.iolog.gz");
        ReplayReport once = new Replayer(t, Traces.Options.defaults(), settings("s"), null).run();
        Replayer.Settings s = settings("s");
        s.loops = 3;
        ReplayReport thrice = new Replayer(t, Traces.Options.defaults(), s, null).run();
        assertEquals(0, thrice.mismatches, thrice.mismatchExamples.toString());
        assertEquals(3 * once.requests, thrice.requests);
        assertEquals(3 * once.scan.records, thrice.scan.records, "the scan parses every pass");
        assertEquals(once.scan.extent, thrice.scan.extent);
        assertTrue(thrice.verifiedReads > 3 * once.verifiedReads - 3, "every pass's reads verified against one model");
        // the device carries over: the second and third passes read what the earlier ones wrote (more read hits)
        long[] f1 = ReplayReport.fields(once.finalStatus);
        long[] f3 = ReplayReport.fields(thrice.finalStatus);
        assertTrue(f3[5] > 3 * f1[5], "read hits " + f3[5] + " vs " + f1[5] + " in one pass (0 of 9, then 12 of 27, when written)");
        double lastOnce = once.samples.get(once.samples.size() - 1)[0];
        double lastThrice = thrice.samples.get(thrice.samples.size() - 1)[0];
        assertEquals(3 * lastOnce, lastThrice, lastOnce * 0.01 + 1e-6, "trace time continues across passes");
        assertEquals(3, thrice.toMap().get("loops"));
    }

    /** --prefault touches the devices before the clock and changes nothing the replay does. */
    @ParameterizedTest(name = "mode {0}")
    @CsvSource({"s", "p"})
    void prefaultChangesNothingButTheClock(String mode) throws Exception {
        Path t = TRACES.resolve("ext4-fsync.v3.iolog.gz");
        ReplayReport plain = new Replayer(t, Traces.Options.defaults(), settings(mode), null).run();
        Replayer.Settings s = settings(mode);
        s.prefault = true;
        ReplayReport pre = new Replayer(t, Traces.Options.defaults(), s, null).run();
        assertEquals(0, pre.mismatches, pre.mismatchExamples.toString());
        assertEquals(plain.requests, pre.requests);
        assertEquals(plain.verifiedReads, pre.verifiedReads);
        assertEquals(java.util.Arrays.toString(ReplayReport.fields(plain.finalStatus)),
                java.util.Arrays.toString(ReplayReport.fields(pre.finalStatus)));
        assertTrue(pre.prefaultSeconds >= 0, "timed: " + pre.prefaultSeconds);
        assertTrue(pre.toMap().get("prefault_seconds") instanceof Double);
        assertEquals(null, plain.toMap().get("prefault_seconds"));
        assertTrue(pre.toText().contains("faulted in before the replay"), pre.toText());
    }

    @ParameterizedTest(name = "mode {0}, queue depth {1}")
    @CsvSource({"s, 4", "p, 8", "s, 16"})
    void queueDepthReplaysConcurrentlyAndStillVerifies(String mode, int depth) throws Exception {
        Replayer.Settings s = settings(mode);
        s.queueDepth = depth;
        s.cacheBytes = 4L << 20; // writeback all the time, on its own threads
        ReplayReport r = new Replayer(TRACES.resolve("raw-mixed.v3.iolog.gz"), Traces.Options.defaults(), s, null).run();
        assertEquals(0, r.mismatches, r.mismatchExamples.toString());
        assertEquals(0, r.errors, r.errorExamples.toString());
        assertEquals(r.scan.records, r.requests);
        assertTrue(r.verifiedReads > 1000 && r.writebackBlocks > 0, r.verifiedReads + " reads, " + r.writebackBlocks + " written back");
        assertEquals(r.originBytes, r.finalCheckedBytes);
        // the fsync trace: flushes and PREFLUSH writes are barriers
        ReplayReport f = new Replayer(TRACES.resolve("ext4-fsync.v3.iolog.gz"), Traces.Options.defaults(), s, null).run();
        assertEquals(0, f.mismatches, f.mismatchExamples.toString());
        assertEquals(f.scan.records, f.requests);
    }

    /**
     * A discard longer than a bio can be (fio's trim, MSR and CSV traces have no limit) goes as
     * several (the cut to 32 bits discarded nothing, or failed); the whole range reads back as
     * zeros, and the final check reads all 3 GiB. That holes are not allocated is
     * BlockDeviceContractTest's.
     */
    @Test
    void aDiscardLongerThanABioIsSentInPiecesAndReadsAsZeros() throws Exception {
        long size = 3L << 30;
        Path t = work.resolve("long-trim.iolog");
        Files.writeString(t, String.join("\n", "fio version 2 iolog", "/dev/x add", "/dev/x open",
                "/dev/x write 0 4096", "/dev/x write " + (size - 4096) + " 4096",
                "/dev/x read 0 4096", "/dev/x read " + (size - 4096) + " 4096",
                "/dev/x trim 0 " + size,
                "/dev/x read 0 4096", "/dev/x read " + (size - 4096) + " 4096",
                "/dev/x write 8192 4096", "/dev/x close", ""));
        for (String mode : List.of("s", "p")) {
            ReplayReport r = new Replayer(t, Traces.Options.defaults(), settings(mode), null).run();
            assertEquals(0, r.mismatches, mode);
            assertEquals(4, r.verifiedReads, mode);
            assertEquals(size, r.finalCheckedBytes, mode);
            String[] status = r.finalStatus.split(" ");
            assertEquals(String.valueOf(size / 4096), status[13], mode + ": discarded blocks in " + r.finalStatus);
        }
    }

    @Test
    void unalignedRequestsAreReadModifyWrittenOrRefused() throws Exception {
        Path t = TRACES.resolve("edge").resolve("blkparse-small.txt");
        ReplayReport r = new Replayer(t, Traces.Options.defaults(), settings("s"), null).run();
        assertEquals(1, r.unaligned);
        assertEquals(0, r.mismatches);
        // unaligned writes (sub-block, as from a 512-byte-sector disk): rmw, widen, and rmw without a model
        Path uw = Files.createTempFile("unaligned-writes", ".iolog");
        try {
            Files.writeString(uw, "fio version 2 iolog\nd add\nd open\nd write 0 4096\nd write 1024 1024\nd read 0 4096\n"
                    + "d write 5120 512\nd read 4096 4096\nd close\n");
            ReplayReport rmw = new Replayer(uw, Traces.Options.defaults(), settings("s"), null).run();
            assertEquals(2, rmw.unaligned);
            assertEquals(2, rmw.rmwReads);
            assertEquals(0, rmw.mismatches, rmw.mismatchExamples.toString());
            assertEquals(rmw.originBytes, rmw.finalCheckedBytes);
            // widen: the whole blocks get the new version (the model too), no read first; checked to the end
            Replayer.Settings widen = settings("s");
            widen.unaligned = "widen";
            ReplayReport w = new Replayer(uw, Traces.Options.defaults(), widen, null).run();
            assertEquals(2, w.unaligned);
            assertEquals(0, w.rmwReads);
            assertEquals(0, w.mismatches, w.mismatchExamples.toString());
            assertEquals(w.originBytes, w.finalCheckedBytes);
            // without --verify (no model) a read-modify-write still reads first
            Replayer.Settings plain = settings("s");
            plain.verify = false;
            ReplayReport p = new Replayer(uw, Traces.Options.defaults(), plain, null).run();
            assertEquals(2, p.rmwReads);
            assertEquals(0, p.errors, p.errorExamples.toString());
        } finally {
            Files.deleteIfExists(uw);
        }
        Replayer.Settings strict = settings("s");
        strict.unaligned = "error";
        Replayer.ReplayException e = assertThrows(Replayer.ReplayException.class,
                () -> new Replayer(t, Traces.Options.defaults(), strict, null).run());
        assertTrue(e.getMessage().startsWith("2: ") && e.getMessage().contains("not aligned"), e.getMessage());
    }

    @Test
    void badLinesStopTheReplayBeforeAnythingIsWrittenUnlessSkipped() throws Exception {
        Path t = TRACES.resolve("edge").resolve("spc-with-bad-line.csv");
        Replayer.Settings s = settings("s");
        s.volume = "0";
        assertThrows(dev.dmwc.writecache.trace.TraceFormatException.class,
                () -> new Replayer(t, Traces.Options.defaults(), s, null).run());
        try (var files = Files.list(work)) {
            assertEquals(0, files.count(), "nothing created");
        }
        s.skipBad = 1;
        ReplayReport r = new Replayer(t, Traces.Options.defaults(), s, null).run();
        assertEquals(1, r.scan.badLines);
        assertEquals(3, r.requests);
    }

    /**
     * A replay whose devices may not fit in the work directory is refused before a file is made;
     * near the limit it runs with a warning. The trace rewrites one MiB a hundred times and reaches
     * 256 MiB: what it can fill of the origin is 1 MiB and a page, not 100 MiB, not 256 MiB.
     */
    @Test
    void aReplayThatMayNotFitIsRefusedBeforeAnyFileIsMade() throws Exception {
        Path dir = Files.createDirectory(work.resolve("trace"));
        Path t = dir.resolve("rewrites.iolog");
        StringBuilder sb = new StringBuilder("fio version 2 iolog\n/dev/x add\n/dev/x open\n");
        for (int i = 0; i < 100; i++) {
            sb.append("/dev/x write 0 1048576\n");
        }
        sb.append("/dev/x write ").append(256L << 20).append(" 4096\n");
        for (int i = 0; i < 3; i++) {
            sb.append("/dev/x read ").append(128L << 20 | (long) i << 12).append(" 4096\n");
        }
        sb.append("/dev/x read ").append(64L << 20).append(" 1048576\n/dev/x close\n");
        Files.writeString(t, sb.toString());
        long fill = (1L << 20) + 4096; // reads fill nothing

        Replayer.Settings s = settings("s");
        s.usableSpace = p -> 32L << 20; // the 64 MiB cache alone is more
        Replayer.ReplayException e = assertThrows(Replayer.ReplayException.class,
                () -> new Replayer(t, Traces.Options.defaults(), s, null).run());
        assertTrue(e.getMessage().contains("may not fit") && e.getMessage().contains("--work-dir")
                && e.getMessage().contains("32.0 MiB is free"), e.getMessage());
        try (var files = Files.list(work)) {
            assertEquals(List.of(dir), files.toList(), "nothing created");
        }

        List<String> told = new java.util.ArrayList<>();
        Replayer.Progress listener = new Replayer.Progress() {
            @Override
            public void update(long done, long total, double seconds) {
            }

            @Override
            public void done() {
            }

            @Override
            public void warn(String message) {
                told.add(message);
            }
        };
        s.usableSpace = p -> 80L << 20; // 64 MiB and a bit of 80: over 80 %
        ReplayReport r = new Replayer(t, Traces.Options.defaults(), s, listener).run();
        assertEquals(fill, r.scan.originFillBytes);
        assertEquals(0, r.mismatches);
        assertEquals(1, r.warnings.size(), r.warnings.toString());
        assertTrue(r.warnings.get(0).contains("most of the free space"), r.warnings.toString());
        assertEquals(r.warnings, told, "told as it starts");
        assertEquals(r.warnings, r.toMap().get("warnings"));
        assertTrue(r.toText().contains("warning   the devices may take most"), r.toText());

        s.usableSpace = p -> 200L << 20; // plenty
        assertEquals(List.of(), new Replayer(t, Traces.Options.defaults(), s, null).run().warnings);

        s.prefault = true; // faults in all of the 256 MiB origin, and the cache: 320 MiB
        e = assertThrows(Replayer.ReplayException.class, () -> new Replayer(t, Traces.Options.defaults(), s, null).run());
        assertTrue(e.getMessage().contains("without --prefault"), e.getMessage());

        s.noSpaceCheck = true;
        r = new Replayer(t, Traces.Options.defaults(), s, null).run();
        assertEquals(0, r.mismatches);
        assertTrue(r.warnings.get(0).startsWith("the devices may not fit"), r.warnings.toString());
    }

    /** A record whose end would pass 2^63 bytes is a bad line, refused or skipped like any other. */
    @Test
    void aRecordReachingPastTheLargestDeviceIsABadLine() throws Exception {
        Path dir = Files.createDirectory(work.resolve("wrap"));
        Path t = dir.resolve("wrap.iolog");
        Files.writeString(t, "fio version 2 iolog\nd add\nd open\nd write 0 4096\nd write " + Long.MAX_VALUE
                + " 4096\nd read 0 4096\nd close\n");
        Replayer.Settings s = settings("s");
        dev.dmwc.writecache.trace.TraceFormatException e = assertThrows(dev.dmwc.writecache.trace.TraceFormatException.class,
                () -> new Replayer(t, Traces.Options.defaults(), s, null).run());
        assertTrue(e.getMessage().contains("wrap.iolog:5") && e.getMessage().contains("largest device"), e.getMessage());
        s.skipBad = 1;
        ReplayReport r = new Replayer(t, Traces.Options.defaults(), s, null).run();
        assertEquals(2, r.requests);
        assertEquals(0, r.errors, r.errorExamples.toString());
        assertEquals(0, r.mismatches);
    }

    @Test
    void multiVolumeTracesNeedAVolume() throws Exception {
        Path t = TRACES.resolve("edge").resolve("tencent.csv");
        Replayer.ReplayException e = assertThrows(Replayer.ReplayException.class,
                () -> new Replayer(t, Traces.Options.defaults(), settings("s"), null).run());
        assertTrue(e.getMessage().contains("2 volumes") && e.getMessage().contains("--volume"), e.getMessage());
        Replayer.Settings s = settings("s");
        s.volume = "1063";
        assertEquals(2, new Replayer(t, Traces.Options.defaults(), s, null).run().requests);
    }

    @Test
    void noDataRunsTheStateMachineWithTheSameCounters() throws Exception {
        Path t = TRACES.resolve("raw-mixed.v3.iolog.gz");
        Replayer.Settings data = settings("s");
        data.verify = false;
        Replayer.Settings none = settings("s");
        none.verify = false;
        none.noData = true;
        ReplayReport a = new Replayer(t, Traces.Options.defaults(), data, null).run();
        ReplayReport b = new Replayer(t, Traces.Options.defaults(), none, null).run();
        assertEquals(a.finalStatus, b.finalStatus, "the same cache decisions with and without payloads");
    }

    /** Total latency samples over all ops. */
    static long timed(ReplayReport r) {
        return r.latency.values().stream().mapToLong(org.HdrHistogram.Histogram::getTotalCount).sum();
    }

    /**
     * Latencies: every request timed with data; one in 16 at random with --no-data (the clock would
     * cost as much as the request); --latency-every sets it. The counters are the same either way.
     */
    @Test
    void latenciesAreSampledWithoutDataAndAllTimedWithIt() throws Exception {
        Path t = TRACES.resolve("raw-mixed.v3.iolog.gz");
        Replayer.Settings data = settings("s");
        data.verify = false;
        ReplayReport all = new Replayer(t, Traces.Options.defaults(), data, null).run();
        assertEquals(all.requests, timed(all), "with data every request is timed");
        assertEquals(1, all.toMap().get("latency_sample_every"));
        assertTrue(!all.toText().contains("latencies from one request in"), all.toText());

        Replayer.Settings none = settings("s");
        none.verify = false;
        none.noData = true;
        ReplayReport some = new Replayer(t, Traces.Options.defaults(), none, null).run();
        long n = timed(some);
        assertTrue(n > some.requests / 24 && n < some.requests / 10, n + " of " + some.requests + " timed");
        assertEquals(Replayer.Settings.NO_DATA_LATENCY_EVERY, some.toMap().get("latency_sample_every"));
        assertEquals(n, some.toMap().get("latency_samples"));
        assertTrue(some.toText().contains("latencies from one request in 16, chosen at random (" + n + " timed"), some.toText());
        // every op that occurs is sampled, at about its share
        for (var op : List.of(dev.dmwc.writecache.trace.TraceRecord.Op.READ, dev.dmwc.writecache.trace.TraceRecord.Op.WRITE)) {
            long ops = ((Number) ((Map<?, ?>) ((Map<?, ?>) some.toMap().get("ops")).get(op.name().toLowerCase())).get("requests")).longValue();
            long got = some.latency.get(op).getTotalCount();
            assertTrue(got > ops / 24 && got < ops / 10, op + ": " + got + " of " + ops);
        }
        assertEquals(all.finalStatus, some.finalStatus, "sampling changes only the clock reads");

        none.latencyEvery = 1;
        ReplayReport every = new Replayer(t, Traces.Options.defaults(), none, null).run();
        assertEquals(every.requests, timed(every));
        data.latencyEvery = 4;
        ReplayReport quarter = new Replayer(t, Traces.Options.defaults(), data, null).run();
        assertTrue(timed(quarter) > quarter.requests / 6 && timed(quarter) < quarter.requests / 3, timed(quarter) + " of " + quarter.requests);
    }

    /**
     * {@code --warmup}: after the first pass of two, {@code clear_stats} and the report start over,
     * so the figures are one pass's, on a warm cache; verification covers both passes.
     */
    @ParameterizedTest(name = "mode {0}, queue depth {1}")
    @CsvSource({"s, 1", "p, 1", "s, 4"})
    void aWarmupIsReplayedAndThenLeftOutOfTheFigures(String mode, int depth) throws Exception {
        Path t = TRACES.resolve("raw-mixed.v3.iolog.gz");
        Replayer.Settings cold = settings(mode);
        cold.cacheBytes = 8L << 20;
        cold.queueDepth = depth;
        ReplayReport once = new Replayer(t, Traces.Options.defaults(), cold, null).run();
        Replayer.Settings warm = cold.copy();
        warm.loops = 2;
        warm.warmupShare = 0.5;
        ReplayReport second = new Replayer(t, Traces.Options.defaults(), warm, null).run();
        assertEquals(0, second.mismatches);
        assertEquals(once.requests, second.requests, "one pass measured");
        assertEquals(once.requests, second.warmupRequests, "one pass of warm-up");
        assertTrue(second.toText().contains("warm-up   the first " + once.requests + " requests"), second.toText());
        long[] a = ReplayReport.fields(once.finalStatus);
        long[] b = ReplayReport.fields(second.finalStatus);
        assertEquals(a[4], b[4], "status reads: one pass's, after clear_stats");
        assertEquals(a[6], b[6], "status writes: one pass's");
        Map<?, ?> ops = (Map<?, ?>) once.toMap().get("ops");
        Map<?, ?> warmOps = (Map<?, ?>) second.toMap().get("ops");
        assertEquals(ops.toString().replaceAll(", latency_us=\\{[^}]*\\}", ""),
                warmOps.toString().replaceAll(", latency_us=\\{[^}]*\\}", ""), "the op table counts one pass");
        long timed = second.latency.values().stream().mapToLong(org.HdrHistogram.Histogram::getTotalCount).sum();
        assertEquals(once.latency.values().stream().mapToLong(org.HdrHistogram.Histogram::getTotalCount).sum(), timed,
                "latencies of one pass");

        Replayer.Settings all = cold.copy();
        all.warmupRequests = once.requests;
        Replayer.ReplayException e = assertThrows(Replayer.ReplayException.class,
                () -> new Replayer(t, Traces.Options.defaults(), all, null).run());
        assertTrue(e.getMessage().contains("leaves nothing to measure"), e.getMessage());
    }

    /**
     * A paced replay keeps the trace's pace across the warm-up's end: raw-mixed spans 3.5 s, so at
     * x2 the warm-up and the measured part take 1.76 s together (measured: 1.08 + 0.71 s). Had the
     * pace restarted at the warm-up's end, the measured part alone would take 1.76 s.
     */
    @Test
    void aPacedReplayKeepsItsPaceAcrossTheWarmup() throws Exception {
        Replayer.Settings s = settings("s");
        s.verify = false;
        s.timing = "x2";
        s.warmupShare = 0.5;
        ReplayReport r = new Replayer(TRACES.resolve("raw-mixed.v3.iolog.gz"), Traces.Options.defaults(), s, null).run();
        double total = r.warmupSeconds + r.replaySeconds;
        assertTrue(r.replaySeconds < 1.4 && total > 1.6 && total < 3.0,
                "warm-up " + r.warmupSeconds + " s, measured " + r.replaySeconds + " s");
    }

    /**
     * {@code --cache-size N%}: the cache's data blocks hold that share of the distinct 4 KiB pages
     * the trace writes (raw-mixed writes 24,454 of them, counted independently in CliTest).
     */
    @ParameterizedTest(name = "mode {0}, {1} of the footprint, {2}-byte blocks")
    @CsvSource({"s, 1.0, 4096, 24454", "p, 0.5, 4096, 12227", "s, 0.25, 512, 48908"})
    void aCacheSizedAsAShareOfTheWrittenFootprint(String mode, double share, int blockSize, long blocks) throws Exception {
        Replayer.Settings s = settings(mode);
        s.verify = false;
        s.cacheShare = share;
        s.blockSize = blockSize;
        ReplayReport r = new Replayer(TRACES.resolve("raw-mixed.v3.iolog.gz"), Traces.Options.defaults(), s, null).run();
        assertEquals(24454L * 4096, r.scan.writtenFootprintBytes);
        assertEquals(blocks, ReplayReport.fields(r.finalStatus)[1], "the cache's blocks");
        assertTrue(r.toText().contains("% of the 95.5 MiB the trace writes"), r.toText());
        if (share == 1.0) {
            assertEquals(0, ReplayReport.fields(r.finalStatus)[9], "a cache that holds every page written never writes around");
        }
    }

    /** The HTML report, opened in headless Chromium (installed by .ci/run): the script drew all three plots. */
    @Test
    void htmlReportDrawsItsPlotsInABrowser() throws Exception {
        String chromium = java.util.stream.Stream.of("chromium", "chromium-browser", "google-chrome")
                .filter(c -> java.util.stream.Stream.of(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, c))))
                .findFirst().orElse(null);
        if (chromium == null) {
            System.err.println("SKIPPED: no chromium on PATH (apt-get install chromium; .ci/run installs it)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(chromium != null, "chromium is not installed");
        Replayer.Settings s = settings("s");
        s.cacheBytes = 4L << 20;
        ReplayReport r = new Replayer(TRACES.resolve("raw-mixed.v3.iolog.gz"), Traces.Options.defaults(), s, null).run();
        Path html = work.resolve("report.html");
        Files.writeString(html, r.toHtml());
        Process p = new ProcessBuilder(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                html.toUri().toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String dom = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS));
        assertTrue(dom.contains("data-plotted=\"3\""), "all three plots drawn: " + dom.substring(0, Math.min(500, dom.length())));
        long lines = java.util.regex.Pattern.compile("<polyline[^>]*data-points=\"(\\d+)\"").matcher(dom).results()
                .filter(m -> Integer.parseInt(m.group(1)) > 100).count();
        assertEquals(4, lines, "hit ratio, dirty, free and writeback series, each with its samples");
        Files.delete(html);

        // a sweep: the hit ratios by run as bars, then the same three plots, one line a run; each run warmed up over a first pass (a dashed line where it ended)
        s.loops = 2;
        s.warmupShare = 0.5;
        ReplaySweep sweep = ReplaySweep.run(TRACES.resolve("raw-mixed.v3.iolog.gz"), Traces.Options.defaults(),
                ReplaySweep.combinations(s, List.of("s", "p"), List.of(ReplaySweep.CacheSize.bytes(4L << 20)), List.of(4096), List.of(List.of())),
                (n, of) -> null);
        Files.writeString(html, sweep.toHtml());
        p = new ProcessBuilder(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                html.toUri().toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String sweepDom = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS));
        assertTrue(sweepDom.contains("data-plotted=\"4\""), sweepDom.substring(0, Math.min(500, sweepDom.length())));
        assertEquals(4, java.util.regex.Pattern.compile("<rect[^>]*data-bar=").matcher(sweepDom).results().count(),
                "the hit-ratio bars: read and write for each run");
        assertEquals(6, java.util.regex.Pattern.compile("<polyline[^>]*data-points=\"(\\d+)\"").matcher(sweepDom).results()
                .filter(m -> Integer.parseInt(m.group(1)) > 100).count(), "hit ratio, dirty and writeback of each run");
        assertTrue(sweepDom.contains("1: s 4.0 MiB 4096") && sweepDom.contains("2: p 4.0 MiB 4096"), "each line named");
        assertEquals(6, java.util.regex.Pattern.compile("<line[^>]*data-warmup=").matcher(sweepDom).results().count(),
                "the warm-up's end marked for each run in each plot");
    }
}
