package dev.dmwc.writecache.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CliTest {
    /**
     * A bench stopped by SIGTERM (as by a Ctrl-C or a kill) leaves none of its scratch files in
     * /dev/shm: they are the size of the devices, in memory.
     */
    @Test
    void aBenchStoppedBySigtermLeavesNoScratchFiles() throws Exception {
        Path shm = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        Path out = dir.resolve("bench-out.txt");
        Process p = child(out, "bench", "-q", "--modes", "s", "--phases", "overflow", "--origin-size", "256M", "--cache-size", "64M",
                "--origin-model", "hdd");
        try {
            Path origin = shm.resolve("dmwc-" + p.pid() + "-origin.img");
            long deadline = System.currentTimeMillis() + 60_000;
            while (!Files.exists(origin) && System.currentTimeMillis() < deadline && p.isAlive()) {
                Thread.sleep(50);
            }
            assertTrue(Files.exists(origin), "the bench never made its origin " + origin);
            Thread.sleep(500);
            assertEquals(130, sigterm(p, "the bench"));
            // ended early, it still reports: what ran, if anything, and that it was stopped
            assertTrue(Files.readString(out).contains("stopped by SIGTERM: what ran is above"), Files.readString(out));
            assertFalse(Files.exists(origin), "the origin scratch file is left behind");
            assertFalse(Files.exists(shm.resolve("dmwc-" + p.pid() + "-cache.img")), "the cache scratch file is left behind");
            List<Path> left = benchCopies(shm, p.pid());
            assertTrue(left.isEmpty(), "the copy baseline's scratch file is left behind: " + left);
        } finally {
            p.destroyForcibly();
        }
    }

    /**
     * crashtest, stress and fuzz make a file or two per case for as long as they run; stopped by
     * SIGTERM in the middle, they leave none of them in their work directory.
     */
    @ParameterizedTest
    @ValueSource(strings = {"crashtest --mode p --seconds 60", "stress --mode p --seconds 60", "fuzz -q --cases 1000000"})
    void longRunsStoppedBySigtermLeaveNoScratchFiles(String command) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of(command.split(" ")));
        args.addAll(List.of("--work-dir", dir.toString()));
        Process p = child(args.toArray(String[]::new));
        try {
            long deadline = System.currentTimeMillis() + 60_000;
            while (filesIn(dir).isEmpty() && System.currentTimeMillis() < deadline && p.isAlive()) {
                Thread.sleep(20);
            }
            assertFalse(filesIn(dir).isEmpty(), command + " never made a scratch file in " + dir);
            Thread.sleep(300);
            sigterm(p, command);
            assertEquals(List.of(), filesIn(dir), command + " left scratch files behind");
        } finally {
            p.destroyForcibly();
        }
    }

    /** {@code replay --keep}: the device files outlive the run (the exit's clean-up leaves them alone). */
    @Test
    void replayKeepKeepsTheDevicesPastExit() throws Exception {
        Process p = child("replay", "--keep", "--work-dir", dir.toString(), "../test-data/traces/edge/blkparse-small.txt");
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "replay did not end");
        assertEquals(0, p.exitValue());
        List<Path> kept = filesIn(dir);
        assertEquals(1, kept.size(), "one folder of devices: " + kept);
        assertTrue(Files.isRegularFile(kept.get(0).resolve("origin.img")), "origin.img kept in " + kept.get(0));
        assertTrue(Files.isRegularFile(kept.get(0).resolve("cache.img")), "cache.img kept in " + kept.get(0));
    }

    /**
     * {@code --table} as architecture.md §4 has it, the writecache arguments without the devices
     * ({@code MODE BLOCK_SIZE NFEAT [FEATURE...]}, default {@code p 4096 0}), in replay, bench and
     * crashtest's contract options; a table that contradicts --mode is refused before any file is made.
     */
    @Test
    void theTableOptionTakesTheWritecacheArgumentsWithoutTheDevices() throws Exception {
        String trace = "../test-data/traces/edge/blkparse-small.txt";
        Run one = run("replay", "-q", "--work-dir", dir.toString(), "--verify", "--table", "s 512 2 high_watermark 60", "--json", "-", trace);
        assertEquals(0, one.code(), one.err());
        assertTrue(one.out().contains("\"mode\": \"s\"") && one.out().contains("\"table\": \"s origin cache 512 2 high_watermark 60\""), one.out());
        Run sweep = run("replay", "-q", "--work-dir", dir.toString(), "--table", "s 1024 0", "--table", "high_watermark 50", trace);
        assertEquals(0, sweep.code(), sweep.err());
        List<String> rows = sweep.out().lines().filter(l -> l.matches("\\s+[12] [sp] .*")).toList();
        assertEquals(2, rows.size(), sweep.out());
        assertTrue(rows.get(0).matches("\\s+1 s .* 1024 .*"), rows.get(0));
        assertTrue(rows.get(1).matches("\\s+2 p .* 4096 .*high_watermark 50"), "features alone: the default mode p: " + rows.get(1));
        for (String[] bad : new String[][] {{"--mode", "s", "--table", "p 4096 0"}, {"--block-size", "512", "--table", "p 4096 0"},
            {"--table", "p 4096 1 high_watermark 60"}}) {
            List<String> args = new java.util.ArrayList<>(List.of("replay", "-q", "--work-dir", dir.toString()));
            args.addAll(List.of(bad));
            args.add(trace);
            Run r = run(args.toArray(String[]::new));
            assertEquals(2, r.code(), String.join(" ", bad) + ": " + r.err());
            assertTrue(r.err().startsWith("dmwc: --table '"), r.err());
        }
        assertEquals(List.of(), filesIn(dir), "nothing made for a refused table");
        Run alias = run("replay", "-q", "--work-dir", dir.toString(), "--bs", "512", "--table", "p 4096 0", trace);
        assertEquals(2, alias.code());
        assertTrue(alias.err().contains("give --bs only with a --table of features alone"), "named as typed: " + alias.err());

        Path json = dir.resolve("bench.json");
        Run bench = run("bench", "-q", "--table", "s 4096 0", "--workload", "absorb", "--seconds", "10", "--scale", "0.02", "--rounds", "1",
                "--origin-size", "64M", "--cache-size", "16M", "--origin-model", "ssd,depth=16", "--json", json.toString());
        assertEquals(0, bench.code(), bench.err());
        assertTrue(bench.out().contains("mode s, 4096-byte blocks") && bench.out().contains("absorb"), "the table, and the JSON in the file: " + bench.out());
        assertTrue(bench.out().contains("model ssd (seek 0.080 ms, sequential 0.020 ms, 477 MiB/s, flush 1.000 ms, queue depth 16)"),
                "the origin model, with the queue depth given: " + bench.out());
        String j = Files.readString(json);
        assertTrue(j.contains("\"mode\": \"s\"") && j.contains("\"absorb\"") && !j.contains("\"drain\""), j);
        assertTrue(j.contains("\"writeback_io_depth\": 16"), "write-back keeps the origin's queue depth in flight: " + j);
        assertEquals(2, run("bench", "--table", "s 4096 0", "--modes", "p").code());

        Run crash = run("crashtest", "--mode", "s", "--iterations", "1", "--ops", "5", "--work-dir", dir.toString());
        assertEquals(0, crash.code(), crash.err());
        assertTrue(crash.out().startsWith("ssd: 1 workloads"), crash.out());
    }

    /**
     * architecture.md §4: a command that opens a pmem device takes --protection and --fault-mode and
     * reports the stray accesses; ssd mode has no dax range to report.
     */
    @Test
    void pmemRunsReportTheirProtectionAndStrayAccesses() {
        String trace = "../test-data/traces/edge/blkparse-small.txt";
        Run p = run("replay", "-q", "--work-dir", dir.toString(), "--protection", "software", "--fault-mode", "relaxed", "--json", "-", trace);
        assertEquals(0, p.code(), p.err());
        String compact = p.out().replaceAll("\\s+", "");
        assertTrue(compact.contains("\"protection\":{\"backend\":\"software\",\"fault_mode\":\"relaxed\",\"map_protected\":true,\"stray_accesses\":0,\"map_sync\":false,\"device_dax\":false}"),
                p.out());
        Run text = run("replay", "-q", "--work-dir", dir.toString(), "--protection", "mprotect", trace);
        assertTrue(text.out().contains("protection mprotect, strict: 0 stray accesses refused"), text.out());
        Run s = run("replay", "-q", "--work-dir", dir.toString(), "--mode", "s", "--json", "-", trace);
        assertEquals(0, s.code(), s.err());
        assertFalse(s.out().contains("\"protection\""), s.out());
        Run bad = run("replay", "-q", "--work-dir", dir.toString(), "--fault-mode", "loose", trace);
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--fault-mode: unknown fault mode 'loose' (strict|relaxed)"), bad.err());
        // bench refuses them before its first run, not after the ssd runs
        Run benchBad = run("bench", "-q", "--fault-mode", "loose");
        assertEquals(2, benchBad.code());
        assertTrue(benchBad.err().contains("--fault-mode: unknown fault mode 'loose'"), benchBad.err());
        Run pku = withoutPku(() -> run("bench", "-q", "--protection", "pku"));
        assertEquals(2, pku.code());
        assertTrue(pku.err().contains("--protection pku is unavailable here"), pku.err());
    }

    /** Runs {@code r} as on a machine without pku: where this one has it, with {@code -Ddmwc.pku.disable=true} for the while. */
    private static <T> T withoutPku(java.util.function.Supplier<T> r) {
        String key = "dmwc.pku.disable";
        String old = System.getProperty(key);
        System.setProperty(key, "true");
        try {
            assertTrue(dev.dmwc.daxlib.ProtectionKeys.Backend.PKU.unavailableReason().contains(key));
            return r.get();
        } finally {
            if (old == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, old);
            }
        }
    }

    /**
     * Requests beyond the origin (issue #4: "reported and wrapped or skipped by option, never
     * silently"): refused before anything is replayed by default; counted, and skipped or wrapped
     * (the wrapped write then read back where it landed), with --beyond.
     */
    @Test
    void requestsBeyondTheOriginAreRefusedSkippedOrWrapped() throws Exception {
        Path t = Files.writeString(dir.resolve("b.iolog"), "fio version 3 iolog\n0 f add\n0 f open\n10 f write 0 4096\n"
                + "20 f write 2097152 4096\n30 f read 2097152 4096\n40 f read 0 4096\n");
        Run refused = run("replay", "-q", "--work-dir", dir.toString(), "--origin-size", "1M", t.toString());
        assertEquals(2, refused.code());
        assertTrue(refused.err().contains("the trace reaches byte 2101248, beyond the origin (1048576 bytes); --beyond wrap|skip"),
                refused.err());
        for (String[] c : new String[][] {{"skip", "1"}, {"wrap", "2"}}) {
            Run r = run("replay", "-q", "--verify", "--work-dir", dir.toString(), "--origin-size", "1M", "--beyond", c[0], "--json", "-", t.toString());
            assertEquals(0, r.code(), r.err());
            String j = r.out().replaceAll("\\s+", "");
            assertTrue(j.contains("\"beyond_origin\":2,") && j.contains("\"verified_reads\":" + c[1] + ",") && j.contains("\"mismatches\":0"),
                    c[0] + ": " + r.out());
        }
    }

    /**
     * A replay's origin can be throttled, as bench's and serve's: every read miss waits for the model's
     * latency (a lower bound, whatever the machine's speed), the report (a sweep's too) names the model, and
     * the data still verifies, through write-back to the slow origin, in both modes.
     */
    @Test
    void replayWithAThrottledOriginWaitsForItAndStillVerifies() throws Exception {
        StringBuilder trace = new StringBuilder("fio version 3 iolog\n0 f add\n0 f open\n");
        for (int i = 0; i < 32; i++) {
            trace.append(10 * i).append(" f write ").append(i * 4096L).append(" 4096\n");
        }
        for (int i = 0; i < 16; i++) { // blocks never written: each read misses and goes to the origin
            trace.append(400 + 10 * i).append(" f read ").append((64 + i) * 4096L).append(" 4096\n");
        }
        Path t = Files.writeString(dir.resolve("throttled.iolog"), trace + "600 f close\n");
        for (String mode : List.of("s", "p")) {
            Path json = dir.resolve("throttled-" + mode + ".json");
            Run r = run("replay", "-q", "--verify", "--mode", mode, "--queue-depth", "4", "--origin-model", "latency=5ms,bandwidth=50M",
                    "--work-dir", dir.toString(), "--json", json.toString(), t.toString());
            assertEquals(0, r.code(), r.err() + r.out());
            assertTrue(r.out().contains("(model custom (seek 5.000 ms") && r.out().contains(": 0 mismatches"), r.out());
            String j = Files.readString(json).replaceAll("\\s+", "");
            assertTrue(j.contains("\"origin_model\":\"custom(seek5.000ms"), j);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"read\":\\{\"requests\":16,.*?\"p50\":([0-9.]+)").matcher(j);
            assertTrue(m.find(), j);
            assertTrue(Double.parseDouble(m.group(1)) >= 5000, "a miss waits for the origin's 5 ms: p50 " + m.group(1) + " us");
        }
        Run sweep = run("replay", "-q", "--mode", "s,p", "--queue-depth", "4", "--origin-model", "latency=5ms,bandwidth=50M",
                "--work-dir", dir.toString(), t.toString());
        assertEquals(0, sweep.code(), sweep.err() + sweep.out());
        assertTrue(sweep.out().contains("2 runs, each on fresh devices, the origin model custom (seek 5.000 ms"), sweep.out());
    }

    /** A count or a duration out of range is a usage error naming the option as typed (an alias too), before any work. */
    @Test
    void numericOptionsOutOfRangeAreRefusedByTheNameTyped() throws Exception {
        Path t = Files.writeString(dir.resolve("n.iolog"), "fio version 3 iolog\n0 f add\n0 f open\n10 f write 0 4096\n");
        String[][] cases = {
            {"--threads must be at least 1, not 0", "bench", "--threads", "0"},
            {"--rounds must be at least 1, not 0", "bench", "--rounds", "0"},
            {"--read-percent must be 0..100, not 101", "bench", "--read-percent", "101"},
            {"--seconds must be a number above 0, not 0", "bench", "--seconds", "0"},
            {"--max-phase-seconds must be a number above 0, not -1", "bench", "--max-phase-seconds=-1"},
            {"--zipf must be a number above 0, not 0", "bench", "--zipf", "0"},
            {"--iterations must be at least 1, not 0", "crashtest", "--iterations", "0"},
            {"--workloads must be at least 1, not 0", "crashtest", "--workloads", "0"},
            {"--seconds must be a number above 0, not 0", "stress", "--seconds", "0"},
            {"--cases must be at least 1, not 0", "fuzz", "--cases", "0"},
            {"--limit must be at least 1, not -5", "replay", "--limit", "-5", t.toString()},
            {"--limit must be at least 1, not 0", "replay", "--limit", "0", t.toString()},
            {"--skip-bad must be at least 0, not -1", "replay", "--skip-bad", "-1", t.toString()},
            {"--threads must be 1..1024, not 0", "replay", "--threads", "0", t.toString()},
            {"--queue-depth must be 1..1024, not 2000", "replay", "--queue-depth", "2000", t.toString()},
            {"a throttled --origin-model (hdd) needs --queue-depth above 1: one request at a time runs in the trace's virtual time",
                "replay", "--origin-model", "hdd", t.toString()},
            {"--origin-model: origin model 'tape': ", "replay", "--queue-depth", "4", "--origin-model", "tape", t.toString()},
            {"--origin-model hdd: size=1048576 is smaller than the device (2097152 bytes), which must fit on the disk (the origin)",
                "replay", "--queue-depth", "4", "--origin-model", "hdd,size=1M", "--origin-size", "2M", t.toString()},
            {"the port must be a number 0..65535 (0: any free port), not '99999'", "serve", "--listen", "tcp:127.0.0.1:99999"},
            {"--workers must be 1..1024, not 0", "serve", "--workers", "0"},
            {"--events D: only blkparse and blktrace traces record dispatches (D); this trace is fio3", "replay", "--events", "D", t.toString()},
            {"--events D: only blkparse and blktrace traces record dispatches (D); this trace is fio3", "trace", "stats", "--events", "D", t.toString()},
            {"--max-connections must be 1..65536, not 0", "serve", "--max-connections", "0"},
            {"--stall-seconds must be a number above 0, not 0", "stress", "--stall-seconds", "0"},
            {"--start-sector must be 0..18014398509481983, not -5", "dump", "--start-sector", "-5", t.toString()},
            {"--start-sector must be 0..18014398509481983, not 9223372036854775807", "check", "--start-sector", "9223372036854775807", t.toString()},
        };
        for (String[] c : cases) {
            String[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
            Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().equals("dmwc: " + c[0] + System.lineSeparator()) || r.err().contains(c[0]), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        }
    }

    /** A phase that runs out of --max-phase-seconds says so, in the table and in JSON; one that finishes says that too. */
    @Test
    void aBenchPhaseStoppedByItsTimeLimitSaysSo() throws Exception {
        String[] common = {"bench", "--modes", "s", "--phases", "absorb,overflow", "--rounds", "1", "--origin-size", "64M", "--cache-size", "8M",
            "--origin-model", "latency=5ms,bandwidth=20M", "--seconds", "0.3"};
        Run r = run(java.util.stream.Stream.concat(java.util.Arrays.stream(common), java.util.stream.Stream.of("-q")).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(java.util.regex.Pattern.compile("overflow stopped at --max-phase-seconds 0\\.3: [0-9,]+ of its [0-9,]+ requests sent")
                .matcher(r.out()).find(), r.out());
        assertFalse(r.out().contains("absorb stopped"), "absorb (about 1,000 writes into a clean cache) finishes: " + r.out());
        Run j = run(java.util.stream.Stream.concat(java.util.Arrays.stream(common), java.util.stream.Stream.of("--json")).toArray(String[]::new));
        assertEquals(0, j.code(), j.err());
        String flat = j.out().replaceAll("\\s+", "");
        assertTrue(flat.contains("\"phase\":\"overflow\",\"ops\":") && java.util.regex.Pattern.compile("\"planned_ops\":\\d+,\"stopped\":\"max_phase_seconds\"").matcher(flat).find(),
                j.out());
        assertTrue(flat.contains("\"stopped\":null"), "absorb finished: " + j.out());
    }

    /** {@code replay TRACE...} (architecture.md §4): several files replayed as one trace, on the same devices, verified. */
    @Test
    void replayTakesSeveralTracesOneAfterAnother() throws Exception {
        Path a = Files.writeString(dir.resolve("a.iolog"), "fio version 3 iolog\n0 f add\n0 f open\n1000 f write 0 8192\n2000 f read 0 4096\n");
        Path b = Files.writeString(dir.resolve("b.iolog"), "fio version 3 iolog\n0 f add\n0 f open\n10 f write 4096 4096\n20 f read 0 8192\n"
                + "30 f write 65536 4096\n");
        Path work = Files.createDirectory(dir.resolve("work"));
        Run r = run("replay", "-q", "--verify", "--work-dir", work.toString(), "--json", "-", a.toString(), b.toString());
        assertEquals(0, r.code(), r.err());
        String j = r.out().replaceAll("\\s+", "");
        assertTrue(j.contains("\"trace\":\"" + a + "+" + b + "\"") && j.contains("\"requests\":5,") && j.contains("\"mismatches\":0"), r.out());
        assertTrue(j.contains("\"verified_reads\":2"), "b's read sees a's block and b's own write: " + r.out());
        Run stats = run("trace", "stats", "--json", a.toString(), b.toString());
        assertEquals(0, stats.code(), stats.err());
        assertTrue(stats.out().replaceAll("\\s+", "").contains("\"requests\":5,"), "trace stats reads them as replay does: " + stats.out());
        Run missing = run("replay", "-q", "--work-dir", work.toString(), a.toString(), dir.resolve("none.iolog").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("none.iolog"), missing.err());
    }

    /**
     * {@code replay --origin IMG --cache IMG} (architecture.md §4): onto an image Linux left (loaded
     * as the kernel's resume loads it: its committed blocks are read hits), onto new files that stay,
     * committed and clean for {@code dmwc check}; a refused table changes neither file.
     */
    @Test
    void replayOntoGivenDeviceFiles() throws Exception {
        Path cache = kernelImage("pmem-crash", "cache.img"); // 5 committed blocks: sectors 0, 8, 24, 32, 40
        Path origin = kernelImage("pmem-crash", "origin.img");
        Path read = Files.writeString(dir.resolve("read.iolog"), "fio version 3 iolog\n0 f add\n0 f open\n10 f read 0 24576\n");
        Run r = run("replay", "-q", "--origin", origin.toString(), "--cache", cache.toString(), "--json", "-", read.toString());
        assertEquals(0, r.code(), r.err());
        String j = r.out().replaceAll("\\s+", "");
        assertTrue(j.contains("\"read_hits\":5,") && j.contains("\"device_files\":\"origin" + origin + ",cache" + cache + "\""), r.out());
        assertEquals(0, run("check", cache.toString(), "--origin", origin.toString()).code(), "the kernel's image, still clean");

        byte[] cacheBefore = Files.readAllBytes(cache);
        byte[] originBefore = Files.readAllBytes(origin);
        Run refused = run("replay", "-q", "--origin", origin.toString(), "--cache", cache.toString(), "--table", "high_watermark 200",
                read.toString());
        assertEquals(2, refused.code(), refused.err());
        assertArrayEquals(cacheBefore, Files.readAllBytes(cache), "a refused table leaves the cache as it was");
        assertArrayEquals(originBefore, Files.readAllBytes(origin));
        Run beyond = run("replay", "-q", "--origin", origin.toString(), "--cache", cache.toString(), "../test-data/traces/raw-mixed.v3.iolog.gz");
        assertEquals(2, beyond.code());
        assertTrue(beyond.err().contains("beyond the origin (8388608 bytes, the size of " + origin + ")"), beyond.err());
        assertArrayEquals(cacheBefore, Files.readAllBytes(cache), "refused before the replay began, not half-way");
        assertArrayEquals(originBefore, Files.readAllBytes(origin));
        // a corrupt image and a cache file of a size no device has: clear errors, nothing written
        byte[] corrupt = cacheBefore.clone();
        corrupt[0] ^= 0x5a; // the superblock's magic
        Path corruptCache = Files.write(dir.resolve("corrupt-cache.img"), corrupt);
        Run badMagic = run("replay", "-q", "--origin", origin.toString(), "--cache", corruptCache.toString(), read.toString());
        assertEquals(2, badMagic.code());
        assertTrue(badMagic.err().contains("Invalid magic in the superblock"), badMagic.err());
        assertArrayEquals(corrupt, Files.readAllBytes(corruptCache));
        Path odd = Files.write(dir.resolve("odd-cache.img"), new byte[1000]);
        Run oddSize = run("replay", "-q", "--origin", origin.toString(), "--cache", odd.toString(), read.toString());
        assertEquals(2, oddSize.code(), oddSize.err());
        assertTrue(oddSize.err().contains("is 1000 bytes, not a whole number of 4096-byte pages"), oddSize.err());
        assertEquals(1000, Files.size(odd));
        assertArrayEquals(originBefore, Files.readAllBytes(origin));
        Run verifyOld = run("replay", "-q", "--verify", "--origin", origin.toString(), "--cache", cache.toString(), read.toString());
        assertEquals(2, verifyOld.code());
        assertTrue(verifyOld.err().contains("--verify knows what a device holds only when the replay made it"), verifyOld.err());

        Path o2 = dir.resolve("new-origin.img");
        Path c2 = dir.resolve("new-cache.img");
        Run made = run("replay", "-q", "--verify", "--mode", "s", "--origin", o2.toString(), "--cache", c2.toString(), "--cache-size", "4M",
                "../test-data/traces/raw-mixed.v3.iolog.gz");
        assertEquals(0, made.code(), made.err());
        assertTrue(made.out().contains("devices   origin " + o2 + ", cache " + c2) && made.out().contains(": 0 mismatches"), made.out());
        assertEquals(4L << 20, Files.size(c2));
        Run check = run("check", c2.toString(), "--origin", o2.toString());
        assertEquals(0, check.code(), check.out() + check.err());
        // a cache that exists unformatted (a fresh device-dax, a zeroed file) is formatted by the target: --verify takes it
        Path zeroCache = Files.write(dir.resolve("zero-cache.img"), new byte[4 << 20]);
        Run zeroed = run("replay", "-q", "--verify", "--mode", "s", "--origin", dir.resolve("o4.img").toString(), "--cache",
                zeroCache.toString(), "../test-data/traces/raw-mixed.v3.iolog.gz");
        assertEquals(0, zeroed.code(), zeroed.err());
        assertTrue(zeroed.out().contains(": 0 mismatches"), zeroed.out());
        Path o5 = dir.resolve("o5.img");
        Run formatted = run("replay", "-q", "--verify", "--mode", "s", "--origin", o5.toString(), "--cache", c2.toString(),
                "../test-data/traces/raw-mixed.v3.iolog.gz");
        assertEquals(2, formatted.code(), formatted.err());
        assertTrue(formatted.err().contains("--verify knows what a device holds only when the replay made it, or, for a cache, when it "
                + "is not formatted yet"), formatted.err());
        assertFalse(Files.exists(o5));
        // with --verify too, a cache that cannot be one is refused for what it is, not for --verify's rule
        Path tiny = Files.write(dir.resolve("tiny-cache.img"), new byte[] {1, 2, 3});
        Run small = run("replay", "-q", "--verify", "--origin", o5.toString(), "--cache", tiny.toString(), read.toString());
        assertEquals(2, small.code(), small.err());
        assertTrue(small.err().contains("is 3 bytes, not a whole number of 4096-byte pages"), small.err());
        Run nul = run("replay", "-q", "--verify", "--origin", o5.toString(), "--cache", "/dev/null", read.toString());
        assertEquals(2, nul.code(), nul.err());
        assertTrue(nul.err().contains("the cache /dev/null is neither a regular file nor a block device"), nul.err());
        assertFalse(Files.exists(o5), "nothing made for a refused replay");
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(tiny));
        Path o3 = dir.resolve("o3.img");
        Path c3 = dir.resolve("c3.img");
        Run bad = run("replay", "-q", "--origin", o3.toString(), "--cache", c3.toString(), "--table", "high_watermark 200", read.toString());
        assertEquals(2, bad.code());
        assertFalse(Files.exists(o3) || Files.exists(c3), "files made for a refused table go again");
        assertEquals(2, run("replay", "-q", "--origin", o2.toString(), "--cache", c2.toString(), "--mode", "s,p", read.toString()).code(),
                "a sweep runs on fresh devices");
    }

    /** A crashtest stopped by SIGTERM reports the workloads it explored (text and JSON) and exits 130. */
    @Test
    void aCrashtestStoppedBySigtermReportsWhatItExplored() throws Exception {
        Path out = dir.resolve("out.txt");
        Path json = dir.resolve("r.json");
        Path work = Files.createDirectory(dir.resolve("work"));
        Process p = child(out, "crashtest", "--mode", "s", "--seconds", "120", "--work-dir", work.toString(), "--json", json.toString());
        try {
            long deadline = System.currentTimeMillis() + 60_000;
            while (filesIn(work).isEmpty() && System.currentTimeMillis() < deadline && p.isAlive()) {
                Thread.sleep(20);
            }
            Thread.sleep(1500);
            assertEquals(130, sigterm(p, "crashtest"));
            String text = Files.readString(out);
            assertTrue(text.startsWith("ssd: ") && text.contains(" 0 violations") && text.contains("stopped by SIGTERM after "), text);
            String j = Files.readString(json).replaceAll("\\s+", "");
            assertTrue(j.contains("\"stopped_by\":\"SIGTERM\"") && j.contains("\"violations\":0"), j);
            assertEquals(List.of(), filesIn(work), "the scratch files went with the last workload");
        } finally {
            p.destroyForcibly();
        }
    }

    /**
     * A replay stopped by SIGTERM (here during a minute's pause of a real-time trace) ends before its
     * next request, still verifies and reports what it replayed, says so, and exits 130; a sweep runs
     * no further combination.
     */
    @Test
    void aReplayStoppedBySigtermReportsWhatItReplayed() throws Exception {
        Path trace = Files.writeString(dir.resolve("pause.iolog"), "fio version 3 iolog\n0 f add\n0 f open\n10 f write 0 4096\n"
                + "60000000 f write 4096 4096\n");
        Path work = Files.createDirectory(dir.resolve("replay-work"));
        String[][] runs = {{"replay", "--timing", "real", "--verify", "--work-dir", work.toString(), "--json", dir.resolve("one.json").toString(),
            trace.toString()},
            {"replay", "--timing", "real", "--mode", "s,p", "--work-dir", work.toString(), "--json", dir.resolve("sweep.json").toString(),
                trace.toString()}};
        for (String[] args : runs) {
            Path out = dir.resolve("replay-out.txt");
            Process p = child(out, args);
            try {
                long deadline = System.currentTimeMillis() + 60_000;
                while (filesIn(work).isEmpty() && System.currentTimeMillis() < deadline && p.isAlive()) {
                    Thread.sleep(20);
                }
                // the first write is replayed, the second is a minute away: the replay goes idle
                waitUntilIdle(p);
                assertEquals(130, sigterm(p, "replay"), Files.readString(out));
                String text = Files.readString(out);
                String j = Files.readString(Path.of(args[args.length - 2])).replaceAll("\\s+", "");
                if (args[3].equals("--verify")) {
                    assertTrue(text.contains("stopped   by SIGTERM after 1 of the 2 requests: every figure below covers those; "
                            + "the final check still ran") && text.contains(": 0 mismatches"), text);
                    assertTrue(j.contains("\"requests\":1,") && j.contains("\"stopped_by\":\"SIGTERM\""), j);
                } else {
                    assertTrue(text.contains("stopped by SIGTERM: 1 of the 2 runs began, the last stopped part way (1 of 2 requests)"), text);
                    assertTrue(j.contains("\"planned_runs\":2,\"stopped_by\":\"SIGTERM\""), j);
                }
                assertEquals(List.of(), filesIn(work), "the scratch devices went at exit");
            } finally {
                p.destroyForcibly();
            }
        }
    }

    /** A stress run stopped by SIGTERM checks what ran (the final check included), reports it and exits 130. */
    @Test
    void aStressRunStoppedBySigtermIsCheckedAndReported() throws Exception {
        Path out = dir.resolve("stress.txt");
        Process p = child(out, "stress", "--mode", "p", "--seconds", "120", "--work-dir", dir.toString(), "--json");
        try {
            Thread.sleep(4000);
            assertEquals(130, sigterm(p, "stress"), Files.readString(out));
            String j = Files.readString(out).replaceAll("\\s+", "");
            assertTrue(j.contains("\"stopped_by\":\"SIGTERM\"") && j.contains("\"mismatches\":0") && j.contains("\"stalled\":false"), j);
            assertFalse(j.contains("\"final_blocks_verified\":0,"), "the final check ran: " + j);
            assertFalse(filesIn(dir).stream().anyMatch(f -> f.getFileName().toString().matches("dmwc-\\d+-stress-.*")), "the pmem file went");
        } finally {
            p.destroyForcibly();
        }
    }

    /** A fuzz run stopped by SIGTERM reports the cases it ran and exits 130. */
    @Test
    void aFuzzRunStoppedBySigtermReportsWhatRan() throws Exception {
        Path out = dir.resolve("fuzz.txt");
        Path work = Files.createDirectory(dir.resolve("fuzz-work"));
        Process p = child(out, "fuzz", "-q", "--cases", "1000000", "--work-dir", work.toString());
        try {
            Thread.sleep(4000);
            assertEquals(130, sigterm(p, "fuzz"));
            String text = Files.readString(out);
            assertTrue(text.startsWith("ssd images ") && text.contains(" 0 failures") && text.contains("stopped by SIGTERM"), text);
            assertEquals(List.of(), filesIn(work));
        } finally {
            p.destroyForcibly();
        }
    }

    /** Sends {@code p} SIGTERM (a kill, or what a Ctrl-C does) and waits for it to exit; its exit status. */
    private static int sigterm(Process p, String what) throws InterruptedException {
        p.toHandle().destroy();
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), what + " ignored SIGTERM");
        return p.exitValue();
    }

    /** The command line of dmwc in a JVM of its own, with the JVM flags the build passes the tests. */
    private static List<String> childCommand(String... args) {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String f : System.getProperty("dmwc.test.jvmFlags", "").split(" ")) {
            if (!f.isBlank()) {
                cmd.add(f);
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** dmwc in a JVM of its own (what it does at exit is the point), its output discarded. */
    private static Process child(String... args) throws java.io.IOException {
        return child(null, args);
    }

    /** dmwc in a JVM of its own, its standard output in {@code out} (null: discarded), its errors discarded. */
    private static Process child(Path out, String... args) throws java.io.IOException {
        return new ProcessBuilder(childCommand(args)).redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectOutput(out == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(out.toFile())).start();
    }

    /**
     * Until process {@code p} has used (almost) no CPU for 1.5 s, or 50 s have passed: a replay
     * in a long pause of its trace. A fixed sleep was too short on a loaded machine (CI beside a
     * build: the first request was not yet replayed after 1.5 s).
     */
    private static void waitUntilIdle(Process p) throws Exception {
        Path stat = Path.of("/proc", Long.toString(p.pid()), "stat");
        long deadline = System.currentTimeMillis() + 50_000;
        long last = -1;
        int idleSamples = 0;
        while (idleSamples < 6 && System.currentTimeMillis() < deadline && p.isAlive()) {
            String text = Files.readString(stat);
            String[] f = text.substring(text.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime + stime
            idleSamples = last >= 0 && ticks - last <= 1 ? idleSamples + 1 : 0;
            last = ticks;
            Thread.sleep(250);
        }
    }

    private static List<Path> filesIn(Path d) throws java.io.IOException {
        try (var files = Files.list(d)) {
            return files.sorted().toList();
        }
    }

    /** The copy baselines process {@code pid} made in {@code dir} (other runs, a parallel build's, are theirs). */
    private static List<Path> benchCopies(Path dir, long pid) throws java.io.IOException {
        try (var files = Files.list(dir)) {
            return new java.util.ArrayList<>(files.filter(f -> f.getFileName().toString().startsWith("dmwc-" + pid + "-bench-copy")).toList());
        }
    }

    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {}

    private Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        PrintStream errStream = new PrintStream(err, true); // warnings go to System.err directly
        System.setErr(errStream);
        try {
            picocli.CommandLine cl = Main.commandLine();
            cl.setErr(new java.io.PrintWriter(errStream, true));
            int code = cl.execute(args);
            return new Run(code, out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** Runs a command whose standard output fails every write, as a pipe does once its reader is gone; its exit code. */
    private static int runIntoAClosedPipe(String... args) {
        java.io.OutputStream gone = new java.io.OutputStream() {
            @Override
            public void write(int b) throws java.io.IOException {
                throw new java.io.IOException("Broken pipe");
            }

            @Override
            public void write(byte[] b, int off, int len) throws java.io.IOException {
                throw new java.io.IOException("Broken pipe");
            }
        };
        PrintStream oldOut = System.out;
        System.setOut(new PrintStream(gone, true));
        try {
            return Main.commandLine().execute(args);
        } finally {
            System.setOut(oldOut);
        }
    }

    /** {@link #run} with {@code stdin} as standard input. */
    private Run runWithStdin(byte[] stdin, String... args) {
        java.io.InputStream oldIn = System.in;
        System.setIn(new java.io.ByteArrayInputStream(stdin));
        try {
            return run(args);
        } finally {
            System.setIn(oldIn);
        }
    }

    /** A trace named '-' is read from standard input (a pipe): figures as from the file, named "stdin"; empty or twice, refused. */
    @Test
    void aTraceFromStandardInput() throws Exception {
        String gz = "../test-data/traces/raw-mixed.v3.iolog.gz";
        byte[] trace = Files.readAllBytes(Path.of(gz));
        Run file = run("trace", "stats", gz);
        Run piped = runWithStdin(trace, "trace", "stats", "-");
        assertEquals(0, piped.code(), piped.err());
        assertEquals(file.out().substring(file.out().indexOf(" (fio3)")), piped.out().substring(piped.out().indexOf(" (fio3)")));
        Run replay = runWithStdin(trace, "replay", "-q", "--verify", "--work-dir", dir.toString(), "-");
        assertEquals(0, replay.code(), replay.err());
        assertTrue(replay.out().contains("trace     stdin (fio3)") && replay.out().contains("replayed  21319 requests"), replay.out());
        Run conv = runWithStdin(trace, "trace", "convert", "-", "-");
        assertEquals(0, conv.code(), conv.err());
        assertTrue(conv.out().startsWith("fio version 3 iolog\n") && conv.err().contains("stdout: 21319 requests"), conv.err());
        Run bad = runWithStdin(Files.readAllBytes(Path.of("../test-data/traces/edge/spc-with-bad-line.csv")), "trace", "stats", "-");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("dmwc: malformed trace: stdin:4: "), bad.err());
        Run empty = runWithStdin(new byte[0], "replay", "-");
        assertEquals(2, empty.code());
        assertTrue(empty.err().contains("'-': standard input was empty, no trace in it"), empty.err());
        Run twice = runWithStdin(trace, "trace", "stats", "-", "-");
        assertEquals(2, twice.code());
        assertTrue(twice.err().contains("'-' (standard input) can be one of the traces only once"), twice.err());
    }

    private Path kernelImage(String scenario, String image) throws Exception {
        Path p = dir.resolve(scenario + "-" + image);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(
                Path.of("..", "test-data", "kernel", scenario, image + ".gz")))) {
            Files.write(p, in.readAllBytes());
        }
        return p;
    }

    /** The kernel's images are kept gzipped: dump and check read them as they are, and leave nothing behind. */
    @Test
    void dumpAndCheckReadGzippedImagesAndNameWhatIsMissing() throws Exception {
        Path gz = Path.of("..", "test-data", "kernel", "ssd-recovery", "cache.img.gz");
        Path originGz = Path.of("..", "test-data", "kernel", "ssd-recovery", "origin.img.gz");
        byte[] before = Files.readAllBytes(gz);
        java.util.Set<String> shmBefore = shmInflated();
        Run plain = run("dump", kernelImage("ssd-recovery", "cache.img").toString());
        Run r = run("dump", gz.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(plain.out(), r.out(), "the gzipped image dumps as the plain one");
        Run c = run("check", gz.toString(), "--origin", originGz.toString());
        assertEquals(0, c.code(), c.err() + c.out());
        assertTrue(c.out().contains("clean (254 entries)"), c.out());
        // an origin too small for the entries: its inflated size counts, not the gzip file's
        Path smallOrigin = dir.resolve("small-origin.img.gz");
        try (java.io.OutputStream o = new java.util.zip.GZIPOutputStream(Files.newOutputStream(smallOrigin))) {
            o.write(new byte[4096]);
        }
        Run beyond = run("check", gz.toString(), "--origin", smallOrigin.toString());
        assertEquals(1, beyond.code(), beyond.out());
        assertArrayEquals(before, Files.readAllBytes(gz), "read only");
        assertEquals(shmBefore, shmInflated(), "no inflated copy left behind");
        // truncated gzip data: unreadable, exit 2, named
        Path cut = dir.resolve("cut.img.gz");
        Files.write(cut, java.util.Arrays.copyOf(before, before.length / 2));
        Run t = run("dump", cut.toString());
        assertEquals(2, t.code());
        assertTrue(t.err().contains("cut.img.gz: truncated or corrupt gzip data"), t.err());
        Run tc = run("check", cut.toString());
        assertEquals(2, tc.code());
        assertTrue(tc.err().contains("cut.img.gz: truncated or corrupt gzip data"), tc.err());
        assertEquals(shmBefore, shmInflated(), "no inflated copy left behind after a failure either");
        // missing files and directories are named as such, once
        Path nope = dir.resolve("nope.img");
        Run m = run("dump", nope.toString());
        assertEquals(2, m.code());
        assertEquals("dmwc: cannot read cache image " + nope + ": no such file", m.err().strip());
        Run mo = run("check", gz.toString(), "--origin", nope.toString());
        assertEquals(2, mo.code());
        assertEquals("dmwc: cannot read origin image " + nope + ": no such file", mo.err().strip());
        Run md = run("check", dir.toString());
        assertEquals(2, md.code());
        assertTrue(md.err().contains(dir + ": is a directory"), md.err());
        // commands that write a device file refuse a gzip file rather than use its compressed bytes as the device
        Path copy = Files.copy(gz, dir.resolve("copy-cache.img.gz"));
        Path trace = Files.writeString(dir.resolve("gz.iolog"), "fio version 3 iolog\n0 f add\n0 f open\n10 f write 0 4096\n");
        Run rep = run("replay", "-q", "--mode", "s", "--cache", copy.toString(), "--origin", dir.resolve("o.img").toString(), trace.toString());
        assertEquals(2, rep.code(), rep.err());
        assertTrue(rep.err().contains("--cache " + copy + ": gzip-compressed; a device image is used in place: gunzip it first"), rep.err());
        Run srv = run("serve", "--mode", "s", "--origin", copy.toString(), "--listen", "unix:" + dir.resolve("gz.sock"));
        assertEquals(2, srv.code(), srv.err());
        assertTrue(srv.err().contains("--origin " + copy + ": gzip-compressed"), srv.err());
        assertArrayEquals(before, Files.readAllBytes(copy), "the gzip file is unchanged");
        assertFalse(Files.exists(dir.resolve("o.img")), "nothing made");
    }

    private static java.util.Set<String> shmInflated() throws java.io.IOException {
        try (java.util.stream.Stream<Path> s = Files.list(Path.of("/dev/shm"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.matches("dmwc-\\d+-inflated-.*")).collect(java.util.stream.Collectors.toSet());
        }
    }

    @Test
    void dumpShowsTheKernelsCommittedEntries() throws Exception {
        Run r = run("dump", kernelImage("ssd-recovery", "cache.img").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("n_blocks 254 seq_count"), r.out());
        assertTrue(r.out().contains("entries: 5 committed, 0 uncommitted, 249 free"), r.out());
        Run j = run("dump", "--json", kernelImage("ssd-recovery", "cache.img").toString());
        assertTrue(j.out().startsWith("{\"path\":") && j.out().contains("\"committed\":5"), j.out());
        Path bad = dir.resolve("not-a-cache.img");
        Files.write(bad, new byte[8192]);
        Files.writeString(bad, "root:x:0:0", java.nio.file.StandardOpenOption.WRITE);
        Run corrupt = run("dump", bad.toString());
        assertEquals(1, corrupt.code(), "an image that would not load");
        assertTrue(corrupt.out().contains("problem: Invalid magic in the superblock"), corrupt.out());
    }

    @Test
    void emptyTracesMissingDirectoriesZeroDurationsAndUnknownHostsAreNamed() throws Exception {
        Path empty = dir.resolve("empty.trace");
        Files.write(empty, new byte[0]);
        Run r = run("replay", "-q", "--work-dir", dir.toString(), empty.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("empty.trace:1: the trace is empty"), r.err());
        Run noDir = run("trace", "convert", "../test-data/traces/raw-mixed.v3.iolog.gz", dir.resolve("none/x.iolog").toString());
        assertEquals(2, noDir.code(), noDir.err());
        assertTrue(noDir.err().contains("cannot write") && noDir.err().contains("no directory"), noDir.err());
        Run notTrace = run("replay", "-q", "--work-dir", dir.toString(), dir.toString());
        assertEquals(2, notTrace.code());
        assertTrue(notTrace.err().contains(dir + " is a directory with no blktrace per-CPU files"), notTrace.err());
        // an output file that could not be written at the end is refused before the work starts
        for (String[] args : new String[][] {{"replay", "--csv", dir.resolve("none/x.csv").toString(), "../test-data/traces/edge/blkparse-small.txt"},
            {"replay", "--html", dir.toString(), "../test-data/traces/edge/blkparse-small.txt"},
            {"crashtest", "--json", dir.resolve("none/c.json").toString()}}) {
            Run out = run(args);
            assertEquals(2, out.code(), String.join(" ", args) + ": " + out.err());
            assertTrue(out.err().contains("cannot write it, no directory") || out.err().contains("is a directory; name a file"),
                    out.err());
            assertTrue(out.out().isEmpty(), "nothing ran: " + out.out());
        }
        Run zero = run("crashtest", "--seconds", "0");
        assertEquals(2, zero.code());
        assertTrue(zero.err().contains("--seconds must be a number above 0, not 0"), zero.err());
        // an ssd cache too large to map: refused before the origin's scratch file is made too
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm)) {
            java.util.Set<Path> before;
            try (var l = Files.list(shm)) {
                before = l.collect(java.util.stream.Collectors.toSet());
            }
            Run unmappable = run("serve", "--mode", "s", "--listen", "unix:" + dir.resolve("s.sock"), "--cache-size", "64T");
            assertEquals(2, unmappable.code(), unmappable.err());
            assertTrue(unmappable.err().contains("vm.max_map_count"), unmappable.err());
            // the free-space warning (serve warns; bench refuses) came first, naming the figures
            assertTrue(unmappable.err().contains("dmwc: warning: the new devices may not fit: written whole they take "
                    + "65537.0 GiB in /dev/shm (origin 1.0 GiB, cache 65536.0 GiB)"), unmappable.err());
            try (var l = Files.list(shm)) {
                assertEquals(java.util.List.of(), l.filter(f -> !before.contains(f) && f.getFileName().toString().startsWith("dmwc-"))
                        .toList(), "scratch files left");
            }
        }
        Run host = run("serve", "--listen", "tcp:no-such-host.invalid:10809");
        assertEquals(2, host.code());
        assertTrue(host.err().contains("no such host 'no-such-host.invalid'"), host.err());
    }

    @Test
    void fuzzReportsEveryTargetAsTextAndJson() {
        Run text = run("fuzz", "-q", "--cases", "20", "--trace", "../test-data/traces/raw-mixed.v3.iolog.gz");
        assertEquals(0, text.code(), text.out() + text.err());
        for (String target : new String[] {"ssd images", "pmem images", "table lines", "nbd sessions", "trace raw-mixed"}) {
            assertTrue(text.out().lines().anyMatch(l -> l.startsWith(target) && l.contains("20 cases") && l.endsWith("0 failures")),
                    target + " in " + text.out());
        }
        Run json = run("fuzz", "-q", "--cases", "20", "--seed", "7", "--json");
        assertEquals(0, json.code(), json.err());
        String j = json.out().replaceAll("\\s+", " ");
        assertTrue(j.contains("\"seed\": 7, \"cases\": 20, \"trace\": null, \"failures\": 0"), j);
        for (String key : new String[] {"ssd_images", "pmem_images", "table_lines", "nbd_sessions"}) {
            assertTrue(j.contains("\"" + key + "\": { \"cases\": 20,"), key + " in " + j);
        }
        // --json FILE: the text as usual, the JSON in the file (stress and crashtest take it the same way)
        Path file = dir.resolve("fuzz.json");
        Run both = run("fuzz", "-q", "--cases", "5", "--json", file.toString());
        assertEquals(0, both.code(), both.err());
        assertTrue(both.out().startsWith("ssd images "), both.out());
        String fj;
        try {
            fj = Files.readString(file).replaceAll("\\s+", " ");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertTrue(fj.contains("\"cases\": 5, \"trace\": null, \"failures\": 0"), fj);
        Path stressFile = dir.resolve("stress.json");
        Run stress = run("stress", "-q", "--mode", "s", "--seconds", "0.5", "--work-dir", dir.toString(), "--json", stressFile.toString());
        assertEquals(0, stress.code(), stress.err());
        assertTrue(stress.out().startsWith("ssd: "), stress.out());
        try {
            assertTrue(Files.readString(stressFile).contains("\"mismatches\": 0"), Files.readString(stressFile));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Run noDir = run("stress", "--json", dir.resolve("none/s.json").toString());
        assertEquals(2, noDir.code());
        assertTrue(noDir.err().contains("cannot write it, no directory"), noDir.err());
        Run missing = run("fuzz", "--trace", "no-such.trace");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("no such trace file: no-such.trace") && missing.out().isEmpty(),
                "refused before any fuzzing: " + missing.out());
    }

    /** Every command's help renders: a '%' not doubled in a description made picocli print warnings instead. */
    @Test
    void everyCommandsHelpRendersWithoutWarnings() {
        for (String name : Main.commandLine().getSubcommands().keySet()) {
            Run r = name.equals("trace") ? run("trace", "stats", "--help") : run(name, "--help");
            assertEquals(0, r.code(), name + ": " + r.err());
            assertFalse(r.err().contains("WARN") || r.out().contains("WARN"), name + ": " + r.err());
            assertTrue(r.out().startsWith("Usage: dmwc") || r.out().contains("Usage: dmwc"), name + ": " + r.out());
        }
    }

    /**
     * Devices that do not fit their file system: serve refuses a DAX cache it cannot back whole, and
     * removes the files it made; a replay whose origin fills the file system up reports failed
     * requests (the origin's writes fail, as a full disk's do), where the JVM used to die.
     */
    @Test
    void devicesOnAFullFileSystem() throws Exception {
        try (dev.dmwc.writecache.block.SmallFileSystem fs = dev.dmwc.writecache.block.SmallFileSystem.mount(dir, 4)) {
            Path o = fs.dir.resolve("o.img");
            Path c = fs.dir.resolve("c.img");
            Run serve = run("serve", "--listen", "unix:" + dir.resolve("full.sock"), "--mode", "p", "--origin", o.toString(),
                    "--origin-size", "1M", "--cache", c.toString(), "--cache-size", "6M");
            assertEquals(2, serve.code(), serve.err());
            assertTrue(serve.err().contains("no space left on the device under " + c) && serve.err().contains("--cache-size"), serve.err());
            assertFalse(Files.exists(o) || Files.exists(c), "the files made for the start are gone");
            Run replay = run("replay", "-q", "--mode", "s", "--work-dir", fs.dir.toString(), "--no-space-check", "--cache-size", "1M",
                    "../test-data/traces/raw-mixed.v3.iolog.gz");
            assertEquals(1, replay.code(), replay.err());
            assertTrue(replay.out().contains("requests failed") && replay.out().contains("write failed: EIO"), replay.out());
        }
    }

    /**
     * Block devices (here loop devices) serve as origin and ssd cache as files do: a replay onto
     * them leaves the same bytes as onto files of their size, check reads them, and pmem mode,
     * which emulates its DAX range on a file, refuses a block device as its cache.
     */
    @Test
    void blockDevicesAsTheDevices() throws Exception {
        StringBuilder log = new StringBuilder("fio version 3 iolog\n0 f add\n0 f open\n");
        java.util.Random rnd = new java.util.Random(5);
        for (int i = 0; i < 600; i++) {
            log.append(i * 10).append(i % 50 == 49 ? " f sync 0 0\n" : " f write " + rnd.nextInt(2048) * 4096L + " 4096\n");
        }
        Path trace = Files.writeString(dir.resolve("t.iolog"), log + "6000 f close\n");
        Path of = dir.resolve("o-loop.img");
        Path cf = dir.resolve("c-loop.img");
        try (java.io.RandomAccessFile o = new java.io.RandomAccessFile(of.toFile(), "rw");
                java.io.RandomAccessFile c = new java.io.RandomAccessFile(cf.toFile(), "rw")) {
            o.setLength(8 << 20);
            c.setLength(4 << 20);
        }
        try (dev.dmwc.writecache.block.LoopDevice lo = dev.dmwc.writecache.block.LoopDevice.attach(of);
                dev.dmwc.writecache.block.LoopDevice lc = dev.dmwc.writecache.block.LoopDevice.attach(cf)) {
            Run onLoops = run("replay", "-q", "--mode", "s", "--origin", lo.path.toString(), "--cache", lc.path.toString(), trace.toString());
            assertEquals(0, onLoops.code(), onLoops.err() + onLoops.out());
            Run onFiles = run("replay", "-q", "--mode", "s", "--origin", dir.resolve("o.img").toString(), "--origin-size", "8M",
                    "--cache", dir.resolve("c.img").toString(), "--cache-size", "4M", trace.toString());
            assertEquals(0, onFiles.code(), onFiles.err());
            assertTrue(onLoops.out().contains("writes    ") && onLoops.out().contains("allocated"), onLoops.out());
            // read through the devices (their page cache), as the kernel's dm-writecache would read them
            org.junit.jupiter.api.Assertions.assertArrayEquals(Files.readAllBytes(dir.resolve("c.img")), readDevice(lc.path, 4 << 20),
                    "the cache device holds what the cache file holds");
            org.junit.jupiter.api.Assertions.assertArrayEquals(Files.readAllBytes(dir.resolve("o.img")), readDevice(lo.path, 8 << 20),
                    "the origin device holds what the origin file holds");
            Run check = run("check", lc.path.toString(), "--origin", lo.path.toString());
            assertEquals(0, check.code(), check.out() + check.err());
            Run pmem = run("replay", "-q", "--mode", "p", "--origin", lo.path.toString(), "--cache", lc.path.toString(), trace.toString());
            assertEquals(2, pmem.code());
            assertTrue(pmem.err().contains("is a block device: pmem mode maps its DAX range from a file or a device-dax"), pmem.err());
            // a block device another program holds exclusively (as a mount or a device-mapper table does) is refused
            Process holder = new ProcessBuilder("python3", "-c", "import os, sys, time\nfd = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL)\n"
                    + "print('held', flush=True)\ntime.sleep(60)", lo.path.toString()).redirectErrorStream(true).start();
            try {
                String held = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine();
                org.junit.jupiter.api.Assumptions.assumeTrue("held".equals(held), "python3 could not hold the loop device: " + held);
                Run busy = run("replay", "-q", "--mode", "s", "--origin", lo.path.toString(), "--cache", lc.path.toString(), trace.toString());
                assertEquals(2, busy.code(), busy.err());
                assertTrue(busy.err().contains(lo.path + " is in use: mounted, in a device-mapper table, or opened exclusively"), busy.err());
            } finally {
                holder.destroyForcibly().waitFor();
            }
        }
    }

    private static byte[] readDevice(Path device, int bytes) throws java.io.IOException {
        try (InputStream in = Files.newInputStream(device)) {
            return in.readNBytes(bytes);
        }
    }

    /**
     * One dmwc at a time on a device file, as the kernel opens a target's devices exclusively: a
     * second serve or a replay on the files of a running serve is refused before it touches them,
     * dump and check read them with a warning, and once the serve has stopped they are free again
     * (also within one process: a replay releases what it took).
     */
    @Test
    void aDeviceFileInUseByAnotherDmwcIsRefused() throws Exception {
        Path o = dir.resolve("o.img");
        Path c = dir.resolve("c.img");
        String trace = "../test-data/traces/edge/fio3.iolog";
        try (dev.dmwc.writecache.nbd.ServeProcess serve = new dev.dmwc.writecache.nbd.ServeProcess(List.of("--listen",
                "unix:" + dir.resolve("first.sock"), "--mode", "p", "--origin", o.toString(), "--origin-size", "64M", "--cache",
                c.toString(), "--cache-size", "16M"))) {
            // bounded: a second serve that is not refused serves on, and the test fails rather than waits
            Run second = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> run("serve",
                    "--listen", "unix:" + dir.resolve("second.sock"), "--mode", "p", "--origin", o.toString(), "--cache", c.toString()));
            assertEquals(2, second.code(), second.err());
            assertTrue(second.err().contains(o + " is in use by another dmwc (a serve, replay or bench on it)"), second.err());
            Path newOrigin = dir.resolve("o2.img");
            Run replay = run("replay", "-q", "--mode", "p", "--origin", newOrigin.toString(), "--cache", c.toString(), trace);
            assertEquals(2, replay.code(), replay.err());
            assertTrue(replay.err().contains(c + " is in use by another dmwc"), replay.err());
            assertFalse(Files.exists(newOrigin), "nothing made for the refused replay");
            Run check = run("check", c.toString());
            assertEquals(0, check.code(), check.out() + check.err());
            assertTrue(check.err().contains("dmwc: warning: " + c + " is in use by a running dmwc"), check.err());
            assertEquals(0, serve.stop(), serve.output());
        }
        for (int i = 0; i < 2; i++) {
            Run replay = run("replay", "-q", "--mode", "p", "--origin", o.toString(), "--cache", c.toString(), trace);
            assertEquals(0, replay.code(), "replay " + i + ": " + replay.err());
        }
        assertFalse(run("check", c.toString()).err().contains("warning"), "free again");
    }

    /** A device path that cannot be a device (a FIFO, a character device) or cannot be written (a read-only file system) is refused, naming it and why. */
    @Test
    void devicePathsThatCannotBeDevicesAreRefused() throws Exception {
        String trace = "../test-data/traces/edge/fio3.iolog";
        Path fifo = dir.resolve("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mk.waitFor());
        Run r = run("replay", "-q", "--origin", fifo.toString(), "--origin-size", "64M", trace);
        assertEquals(2, r.code());
        assertTrue(r.err().contains("the origin " + fifo + " is neither a regular file nor a block device"), r.err());
        // dump and check of a FIFO: refused, where reading it waited for a writer forever
        Run chk = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                () -> run("check", fifo.toString()));
        assertEquals(2, chk.code());
        assertTrue(chk.err().contains(fifo + ": neither a regular file nor a block device"), chk.err());
        Run dmp = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                () -> run("dump", "/dev/null"));
        assertEquals(2, dmp.code());
        assertTrue(dmp.err().contains("/dev/null: neither a regular file nor a block device"), dmp.err());
        Run s = run("serve", "--listen", "unix:" + dir.resolve("k.sock"), "--cache", "/dev/null");
        assertEquals(2, s.code());
        assertTrue(s.err().contains("--cache /dev/null is neither a regular file nor a block device"), s.err());
        try (dev.dmwc.writecache.block.SmallFileSystem fs = dev.dmwc.writecache.block.SmallFileSystem.mount(dir, 1)) {
            Path o = fs.dir.resolve("o.img");
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(o.toFile(), "rw")) {
                f.setLength(8 << 20); // sparse: the trace's extent, in a 1 MiB file system
            }
            fs.remountReadOnly();
            Run ro = run("replay", "-q", "--origin", o.toString(), trace);
            assertEquals(2, ro.code(), ro.err());
            assertTrue(ro.err().contains("dmwc: cannot use " + o + ": Read-only file system"), ro.err());
        }
    }

    /** Every command (sub-commands too) has a one-line header for the command list, and every option and parameter says what it is. */
    @Test
    void everyCommandOptionAndParameterIsDescribed() {
        List<String> bare = new java.util.ArrayList<>();
        java.util.ArrayDeque<picocli.CommandLine> todo = new java.util.ArrayDeque<>(Main.commandLine().getSubcommands().values());
        while (!todo.isEmpty()) {
            picocli.CommandLine c = todo.pop();
            picocli.CommandLine.Model.CommandSpec cs = c.getCommandSpec();
            todo.addAll(c.getSubcommands().values());
            String name = cs.qualifiedName();
            if (name.endsWith(" help") || name.endsWith("generate-completion")) {
                continue; // picocli's own
            }
            if (cs.usageMessage().header().length == 0 && cs.usageMessage().description().length == 0) {
                bare.add(name + ": no header or description");
            }
            for (picocli.CommandLine.Model.ArgSpec a : cs.args()) {
                if (a.description().length == 0 || String.join("", a.description()).isBlank()) {
                    bare.add(name + " " + (a.isOption() ? ((picocli.CommandLine.Model.OptionSpec) a).longestName() : a.paramLabel()));
                }
            }
        }
        assertEquals(List.of(), bare, "undescribed in --help");
    }

    @Test
    void bashCompletionKnowsEveryCommandAndItsOptions() {
        Run r = run("generate-completion");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("complete -F _complete_dmwc -o default dmwc"), "registers for dmwc");
        for (String word : new String[] {"replay", "serve", "bench", "crashtest", "--cache-size", "--origin-model", "--watch"}) {
            assertTrue(r.out().contains(word), word);
        }
    }

    @Test
    void checkIsCleanOnKernelImagesAndReportsCorruption() throws Exception {
        Path img = kernelImage("pmem-recovery", "cache.img");
        Path origin = kernelImage("pmem-recovery", "origin.img");
        assertEquals(0, run("check", img.toString(), "--origin", origin.toString()).code());
        byte[] b = Files.readAllBytes(img);
        b[0] ^= 0x55;
        Files.write(img, b);
        byte[] before = Files.readAllBytes(img);
        Run r = run("check", img.toString());
        assertEquals(1, r.code());
        assertTrue(r.out().contains("Invalid magic in the superblock"), r.out());
        assertArrayEquals(before, Files.readAllBytes(img), "check must not change the image");
        assertEquals(2, run("check", dir.resolve("nope.img").toString()).code());
    }

    @Test
    void badArgumentsExitTwoWithOneLine() throws Exception {
        Run r = run("script", "--mode", "x", "a.wcs", dir.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("dmwc: "), r.err());
        Path bad = dir.resolve("bad.wcs");
        Files.writeString(bad, "origin 8M\ncache 1M\nwrite 0 8 TOOLONGTAG\n");
        Run s = run("script", bad.toString(), dir.resolve("out").toString());
        assertEquals(2, s.code());
        assertTrue(s.err().contains("bad.wcs:3: TAG must be 1-8 printable ASCII characters"), s.err());
        // one request larger than one read system call moves (it would overflow the runner's buffer)
        Files.writeString(bad, "origin 3G\ncache 1M\ntable s 4096 0\ncreate\nread 0 6000000\n");
        Run big = run("script", bad.toString(), dir.resolve("out").toString());
        assertEquals(2, big.code());
        assertTrue(big.err().contains("bad.wcs:5: usage: read SECTOR NSECT (NSECT 1..4194296"), big.err());
        assertFalse(Files.exists(dir.resolve("out").resolve("origin.img")), "nothing run, no device made");
        // a discard of 4 GiB + 4 KiB: its bytes wrapped to 4,096 in the runner's int and discarded 8 sectors
        Files.writeString(bad, "origin 8G\ncache 1M\ntable s 4096 0\ncreate\ndiscard 0 8388616\n");
        Run wrap = run("script", bad.toString(), dir.resolve("out").toString());
        assertEquals(2, wrap.code());
        assertTrue(wrap.err().contains("bad.wcs:5: usage: discard SECTOR NSECT (NSECT 1..4194296)"), wrap.err());
        assertEquals(2, run("frobnicate").code());
        // OUTDIR a file, or under one: a usage error, and the file is left as it was
        Path file = Files.writeString(dir.resolve("a-file"), "keep");
        Path good = Path.of("..", "test-data", "kernel", "ssd-crash", "script.wcs");
        for (Path out : new Path[] {file, file.resolve("sub")}) {
            Run o = run("script", good.toString(), out.toString());
            assertEquals(2, o.code(), o.err());
            assertTrue(o.err().contains(file + " is a file, not a directory"), o.err());
        }
        assertEquals("keep", Files.readString(file));
        // beyond 600000 (a sleep's longest) the virtual clock could overflow
        for (String opTime : new String[] {"-1", "fast", "600001", "9223372036854775807"}) {
            Run neg = run("script", "--op-time", opTime, good.toString(), dir.resolve("neg").toString());
            assertEquals(2, neg.code());
            assertTrue(neg.err().contains("--op-time must be 'oracle' or a number of milliseconds (0 to 600000), not '" + opTime + "'"),
                    neg.err());
            assertFalse(Files.exists(dir.resolve("neg")), "nothing made");
        }
    }

    @Test
    void scriptShowsWhereItLeftTheKernelsPathWithoutLog() throws Exception {
        String bug = "../test-data/kernel-bugs/ssd-writeback-freed-entry/script.wcs";
        Run r = run("script", bug, dir.resolve("bug").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("dmwc script: script.wcs: Linux 6.1 would BUG here (list_del corruption"), r.err());
        assertFalse(r.err().contains("device-mapper: writecache:"), "the rest of the log only with --log: " + r.err());
        Run logged = run("script", "--log", "--protection", "software", "../test-data/kernel/pmem-basic/script.wcs", dir.resolve("p").toString());
        assertEquals(0, logged.code(), logged.err());
        assertTrue(logged.err().contains("dmwc script: script.wcs: protection software, strict: 0 stray accesses refused"), logged.err());
        Run quiet = run("script", "../test-data/kernel/ssd-beyond-end/script.wcs", dir.resolve("ok").toString());
        assertEquals(0, quiet.code(), quiet.err());
        assertEquals("", quiet.err(), "a run on the kernel's path prints nothing");
    }

    @Test
    void scriptShuffleScheduleShowsWhetherAResultDependsOnTiming() throws Exception {
        String split = "../test-data/kernel/ssd-split-write-second-writeback/script.wcs";
        assertEquals(0, run("script", split, dir.resolve("traced").toString()).code());
        assertEquals(0, run("script", "--shuffle-schedule", "1", split, dir.resolve("shuffled").toString()).code());
        assertNotEquals(Files.readString(dir.resolve("traced").resolve("transcript.txt")),
                Files.readString(dir.resolve("shuffled").resolve("transcript.txt")),
                "another order of writeback between the parts of the split write leaves another free count");
        String settled = "../test-data/kernel/ssd-writeback/script.wcs";
        assertEquals(0, run("script", settled, dir.resolve("a").toString()).code());
        assertEquals(0, run("script", "--shuffle-schedule", "3", settled, dir.resolve("b").toString()).code());
        assertEquals(Files.readString(dir.resolve("a").resolve("transcript.txt")), Files.readString(dir.resolve("b").resolve("transcript.txt")));
        assertArrayEquals(Files.readAllBytes(dir.resolve("a").resolve("cache.img")), Files.readAllBytes(dir.resolve("b").resolve("cache.img")),
                "a script that settles comes out the same in any order");
        Run bad = run("script", "--shuffle-schedule", "x", settled, dir.resolve("c").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--shuffle-schedule"), bad.err());
    }

    @Test
    void infoNamesThePersistenceAndProtectionChoices() {
        Run r = run("info", "--json");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("\"persistence\":") && r.out().contains("\"pku\":"), r.out());
        // fixed keys (the CPU flags' source is a value, not part of a key) and one object per backend
        String flat = r.out().replaceAll("\\s+", "");
        assertTrue(flat.contains("\"cpu_features\":{\"clwb\":") && flat.contains("\"source\":\"")
                && flat.contains("\"protection_backends\":{\"pku\":{\"available\":")
                && java.util.regex.Pattern.compile("\"none\":\\{\"available\":true,\"unavailable_because\":null,").matcher(flat).find(), r.out());
        // this machine's DAX mounts, as /proc/self/mounts has them (none here, as a rule)
        String expected = dev.dmwc.daxlib.DaxFileSystems.mounted().isEmpty() ? "\"dax_file_systems\":[]" : "\"dax_file_systems\":[{\"mount_point\":";
        assertTrue(flat.contains(expected), r.out());
        Run text = run("info");
        assertTrue(text.out().contains("\ncpu features:") && text.out().contains("protection backend:")
                && text.out().contains("\ndax file systems:"), text.out());
    }

    @org.junit.jupiter.api.Test
    void replaySweepsCacheSizesAndTablesOneRowARun() throws Exception {
        Path json = dir.resolve("sweep.json");
        Run r = run("replay", "-q", "--work-dir", dir.toString(), "--verify", "--cache-size", "32K,1M",
                "--table", "high_watermark 30 low_watermark 10", "--table", "high_watermark 200", "--json", json.toString(),
                "--csv", dir.resolve("sweep.csv").toString(), "../test-data/traces/raw-mixed.v3.iolog.gz");
        assertEquals(2, r.code(), r.out() + r.err()); // two of the four runs were refused by the target
        List<String> rows = r.out().lines().filter(l -> l.matches("\\s+[1-4] p .*")).toList();
        assertEquals(4, rows.size(), r.out());
        assertTrue(rows.get(0).contains("32.0 KiB") && rows.get(0).endsWith("high_watermark 30 low_watermark 10"), rows.get(0));
        assertTrue(rows.get(1).contains("high_watermark 200: refused: the table was refused"), rows.get(1));
        assertTrue(rows.get(2).contains("1.0 MiB") && rows.get(2).endsWith("high_watermark 30 low_watermark 10"), rows.get(2));
        assertTrue(rows.get(3).contains("refused"), rows.get(3));
        // a larger cache hits more: the read hit column of runs 1 and 3 (the fifth field)
        double small = Double.parseDouble(rows.get(0).trim().split("\\s+")[5].replace("%", ""));
        double large = Double.parseDouble(rows.get(2).trim().split("\\s+")[5].replace("%", ""));
        assertTrue(large > small, rows.toString());
        String j = Files.readString(json);
        assertEquals(2, j.split("\"refused\"", -1).length - 1, j);
        assertEquals(2, j.split("\"mismatches\": 0,", -1).length - 1, "two verified reports");
        assertTrue(j.contains("\"cache_bytes\": 32768") && j.contains("\"cache_bytes\": 1048576"), "sizes in JSON");
        List<String> csv = Files.readAllLines(dir.resolve("sweep.csv"));
        assertEquals(5, csv.size(), csv.toString());
        assertTrue(csv.get(0).startsWith("run,mode,cache_bytes,cache_share,block_size,features,read_hit_ratio"), csv.get(0));
        assertTrue(csv.get(1).startsWith("1,p,32768,,4096,high_watermark 30 low_watermark 10,") && csv.get(1).endsWith(",0,"), csv.get(1));
        assertTrue(csv.get(2).startsWith("2,p,32768,,4096,high_watermark 200,,,") && csv.get(2).contains("the table was refused"),
                csv.get(2));
        assertEquals(small, Double.parseDouble(csv.get(1).split(",", -1)[6]) * 100, 0.051, "the table's read hits, as a ratio");
        Run zero = run("replay", "-q", "--work-dir", dir.toString(), "--cache-size", "25%,0%", "../test-data/traces/raw-mixed.v3.iolog.gz");
        assertEquals(2, zero.code());
        assertTrue(zero.err().contains("--cache-size 0%: a share of the trace's written footprint is a percentage above 0"), zero.err());
        Run everywhere = run("replay", "-q", "--work-dir", dir.toString(), "--cache-size", "32K,64K", "--table", "high_watermark 200",
                "../test-data/traces/raw-mixed.v3.iolog.gz");
        assertEquals(2, everywhere.code());
        assertTrue(everywhere.err().contains("the table was refused: EINVAL"), everywhere.err());
        Run html = run("replay", "-q", "--work-dir", dir.toString(), "--mode", "s,p", "--html", dir.resolve("x.html").toString(),
                "../test-data/traces/raw-mixed.v3.iolog.gz");
        assertEquals(0, html.code(), html.err());
        String page = Files.readString(dir.resolve("x.html"));
        assertTrue(page.contains("<h1>dmwc replay sweep</h1>") && page.contains("2 runs, each on fresh devices"), "the sweep's page");
        Files.delete(dir.resolve("x.html"));
        try (var left = Files.list(dir)) {
            assertFalse(left.anyMatch(f -> f.getFileName().toString().matches("dmwc-\\d+-replay-.*")), "device files left");
        }
    }

    @org.junit.jupiter.api.Test
    void replayVerifiesAndWritesJsonAndRefusesMalformedTracesWithExit2() throws Exception {
        Path json = dir.resolve("r.json");
        Run ok = run("replay", "-q", "--work-dir", dir.toString(), "--verify", "--json", json.toString(),
                "--csv", dir.resolve("one.csv").toString(), "../test-data/traces/edge/blkparse-small.txt");
        org.junit.jupiter.api.Assertions.assertEquals(0, ok.code(), ok.err());
        List<String> oneRow = Files.readAllLines(dir.resolve("one.csv"));
        assertEquals(2, oneRow.size(), oneRow.toString());
        assertTrue(oneRow.get(1).startsWith("1,p,268435456,,4096,,") && oneRow.get(1).endsWith(",0,"), oneRow.get(1)); // default p 4096 0
        String j = Files.readString(json);
        for (String k : new String[] {"\"requests\": 4", "\"verified_reads\"", "\"mismatches\": 0", "\"requests_per_second\""}) {
            org.junit.jupiter.api.Assertions.assertTrue(j.contains(k), k + " in " + j);
        }
        org.junit.jupiter.api.Assertions.assertTrue(ok.out().contains("0 mismatches"), ok.out());
        Run bad = run("replay", "-q", "--work-dir", dir.toString(), "../test-data/traces/edge/blkparse-unknown-op.txt");
        org.junit.jupiter.api.Assertions.assertEquals(2, bad.code());
        org.junit.jupiter.api.Assertions.assertTrue(bad.err().contains("blkparse-unknown-op.txt:2"), bad.err());
        Run check = run("replay", "--check", "--skip-bad", "1", "--volume", "0", "../test-data/traces/edge/spc-with-bad-line.csv");
        org.junit.jupiter.api.Assertions.assertEquals(0, check.code(), check.err());
        org.junit.jupiter.api.Assertions.assertTrue(check.out().contains("1 bad lines skipped"), check.out());
        org.junit.jupiter.api.Assertions.assertEquals(2, run("replay", "--cache-size", "lots", "x").code());
        Run loops = run("replay", "-q", "--work-dir", dir.toString(), "--verify", "--loops", "3", "--json", "-",
                "../test-data/traces/edge/blkparse-small.txt");
        org.junit.jupiter.api.Assertions.assertEquals(0, loops.code(), loops.err());
        org.junit.jupiter.api.Assertions.assertTrue(loops.out().contains("\"requests\": 12") && loops.out().contains("\"loops\": 3")
                && loops.out().contains("\"mismatches\": 0"), loops.out());
        Run kept = run("replay", "-q", "--work-dir", dir.toString(), "--keep", "--json", "-", "../test-data/traces/edge/blkparse-small.txt");
        assertEquals(0, kept.code(), kept.err());
        java.util.regex.Matcher keptIn = java.util.regex.Pattern.compile("\"kept_in\": \"([^\"]+)\"").matcher(kept.out());
        assertTrue(keptIn.find(), kept.out());
        Path keptDir = Path.of(keptIn.group(1));
        assertTrue(Files.isRegularFile(keptDir.resolve("origin.img")) && Files.isRegularFile(keptDir.resolve("cache.img")), "kept");
        Files.delete(keptDir.resolve("origin.img"));
        Files.delete(keptDir.resolve("cache.img"));
        Files.delete(keptDir);
        Run badLoops = run("replay", "--loops", "0", "../test-data/traces/edge/blkparse-small.txt");
        org.junit.jupiter.api.Assertions.assertEquals(2, badLoops.code());
        org.junit.jupiter.api.Assertions.assertTrue(badLoops.err().contains("--loops must be at least 1"), badLoops.err());
        Run sampled = run("replay", "-q", "--work-dir", dir.toString(), "--no-data", "--latency-every", "3", "--json", "-",
                "../test-data/traces/edge/blkparse-small.txt");
        org.junit.jupiter.api.Assertions.assertEquals(0, sampled.code(), sampled.err());
        org.junit.jupiter.api.Assertions.assertTrue(sampled.out().contains("\"latency_sample_every\": 3"), sampled.out());
        Run pre = run("replay", "-q", "--work-dir", dir.toString(), "--prefault", "--json", "-",
                "../test-data/traces/edge/blkparse-small.txt");
        org.junit.jupiter.api.Assertions.assertEquals(0, pre.code(), pre.err());
        java.util.regex.Pattern timed = java.util.regex.Pattern.compile("\"prefault_seconds\": [0-9]");
        org.junit.jupiter.api.Assertions.assertTrue(timed.matcher(pre.out()).find() && !timed.matcher(loops.out()).find(),
                "--prefault reaches the replayer: " + pre.out());
        Path far = dir.resolve("far.iolog"); // a 4 KiB write at 1 PiB: --prefault would fault in all of the origin
        Files.writeString(far, "fio version 2 iolog\nd add\nd open\nd write " + (1L << 50) + " 4096\nd close\n");
        Run tooBig = run("replay", "-q", "--work-dir", dir.toString(), "--prefault", far.toString());
        org.junit.jupiter.api.Assertions.assertEquals(2, tooBig.code(), tooBig.err());
        org.junit.jupiter.api.Assertions.assertTrue(tooBig.err().contains("the devices may not fit")
                && tooBig.err().contains("--no-space-check"), tooBig.err());
        try (var left = Files.list(dir)) {
            org.junit.jupiter.api.Assertions.assertFalse(left.anyMatch(f -> f.getFileName().toString().matches("dmwc-\\d+-replay-.*")),
                    "no device file made");
        }
        Run unmappable = run("replay", "-q", "--work-dir", dir.toString(), far.toString()); // fits, but 1 PiB cannot be mapped
        org.junit.jupiter.api.Assertions.assertEquals(2, unmappable.code(), unmappable.err());
        org.junit.jupiter.api.Assertions.assertTrue(unmappable.err().contains("vm.max_map_count"), unmappable.err());
        try (var left = Files.list(dir)) {
            org.junit.jupiter.api.Assertions.assertFalse(left.anyMatch(f -> f.getFileName().toString().matches("dmwc-\\d+-replay-.*")),
                    "no device file left");
        }
        Run noDir = run("replay", "--work-dir", dir.resolve("missing").toString(), far.toString());
        org.junit.jupiter.api.Assertions.assertEquals(2, noDir.code());
        org.junit.jupiter.api.Assertions.assertTrue(noDir.err().contains("missing is not a directory"), noDir.err());
        Run badEvery = run("replay", "--latency-every", "0", "../test-data/traces/edge/blkparse-small.txt");
        org.junit.jupiter.api.Assertions.assertEquals(2, badEvery.code());
        org.junit.jupiter.api.Assertions.assertTrue(badEvery.err().contains("--latency-every must be 1..1000000"), badEvery.err());
    }

    @org.junit.jupiter.api.Test
    void traceStatsAndConvertToAFioLogThatReadsBackTheSame() throws Exception {
        Run st = run("trace", "stats", "--json", "../test-data/traces/ext4-tree.blkparse.txt.gz");
        org.junit.jupiter.api.Assertions.assertEquals(0, st.code(), st.err());
        org.junit.jupiter.api.Assertions.assertTrue(st.out().contains("\"requests\": 10704"), st.out());
        // the footprint in distinct 4 KiB pages, as counted independently from the log's lines (a Python set)
        Run fp = run("trace", "stats", "--json", "../test-data/traces/raw-mixed.v3.iolog.gz");
        assertTrue(fp.out().replaceAll("\\s+", " ").contains(
                        "\"footprint_bytes\": { \"written\": 100163584, \"read\": 80519168, \"either\": 111439872 }"), fp.out());
        Path out = dir.resolve("t.v3.iolog");
        Run cv = run("trace", "convert", "../test-data/traces/ext4-tree.blkparse.txt.gz", out.toString());
        org.junit.jupiter.api.Assertions.assertEquals(0, cv.code(), cv.err());
        Run back = run("trace", "stats", "--json", out.toString());
        org.junit.jupiter.api.Assertions.assertTrue(back.out().contains("\"format\": \"fio3\""), back.out());
        // reads, writes and discards survive the conversion one to one
        for (String op : new String[] {"read", "discard"}) {
            String a = st.out().substring(st.out().indexOf("\"" + op + "\""));
            String b = back.out().substring(back.out().indexOf("\"" + op + "\""));
            org.junit.jupiter.api.Assertions.assertEquals(a.substring(0, a.indexOf('}')), b.substring(0, b.indexOf('}')), op);
        }
    }

    /**
     * A trace to a WCSCRIPT ({@code .wcs} chooses it): the devices sized from the trace, a script the
     * runner parses, the first N requests when asked; options of the other format, a request of
     * part sectors or an origin too small for the trace are refused, and no OUT is written.
     */
    @Test
    void traceConvertToAWcscript() throws Exception {
        Path wcs = dir.resolve("raw.wcs");
        Run cv = run("trace", "convert", "--requests", "300", "../test-data/traces/raw-mixed.v3.iolog.gz", wcs.toString());
        assertEquals(0, cv.code(), cv.err());
        assertEquals(wcs + ": 300 requests written as a WCSCRIPT\n", cv.out());
        List<String> lines = Files.readAllLines(wcs);
        assertTrue(lines.get(0).startsWith("# a WCSCRIPT of ") && lines.get(0).contains("its first 300 requests"), lines.get(0));
        List<String> ops = lines.stream().filter(l -> !l.startsWith("#")).toList();
        assertEquals("table @ 4096 2 autocommit_time 3600000", ops.get(2));
        assertEquals(List.of("status", "message flush", "settle", "status", "remove"), ops.subList(ops.size() - 5, ops.size()));
        assertTrue(ops.get(0).matches("origin \\d+M") && ops.get(1).matches("cache \\d+M"), ops.subList(0, 2).toString());
        dev.dmwc.writecache.script.WcScript.parse(wcs, null); // the runner's own parser takes it
        Run small = run("trace", "convert", "--requests", "300", "--cache-size", "60%", "../test-data/traces/raw-mixed.v3.iolog.gz",
                wcs.toString());
        assertEquals(0, small.code(), small.err());
        assertTrue(small.out().contains("\nnote: The script writes 1") && small.out().contains("--table 's 4096 4 autocommit_time 3600000 pause_writeback 0' makes a script both run alike"),
                "a cache the script's writes overflow: " + small.out());
        Run full = run("trace", "convert", "--table", "s 512 2 high_watermark 60", "--cache-size", "64M", "--origin-size", "1G",
                "../test-data/traces/raw-mixed.v3.iolog.gz", wcs.toString());
        assertEquals(0, full.code(), full.err());
        assertEquals(List.of("origin 1G", "cache 64M", "table s 512 2 high_watermark 60"),
                Files.readAllLines(wcs).stream().filter(l -> !l.startsWith("#")).limit(3).toList());
        String before = Files.readString(wcs);
        Path bad = dir.resolve("bad.iolog");
        Files.writeString(bad, "fio version 3 iolog\n0 d add\n0 d open\n1 d write 0 4096\n2 d write 100 512\n3 d close\n");
        for (List<String> args : List.of(List.of("--cache-size", "64M", "--to", "fio3"), List.of("--file-name", "x"),
                List.of("--to", "csv"), List.of("--origin-size", "1M"), List.of("--cache-size", "0%"), List.of("--cache-size", "1000"),
                List.of("--table", "x 4096 0"), List.of("--requests", "-1"), List.of("--max-write", "1000"),
                List.of("--max-write", "1M", "--to", "fio3"), List.of("--table", "bogus_feature"), List.of("--table", "s 4096 1 nofua"),
                List.of("--table", "pause_writeback 0"), List.of("--table", "high_watermark 10 low_watermark 20"),
                List.of("--table", "s 4096 2 start_sector 131072", "--cache-size", "64M"))) {
            List<String> a = new ArrayList<>(List.of("trace", "convert"));
            a.addAll(args);
            a.addAll(List.of("../test-data/traces/raw-mixed.v3.iolog.gz", wcs.toString()));
            Run r = run(a.toArray(String[]::new));
            assertEquals(2, r.code(), args + ": " + r.out() + r.err());
            assertEquals(before, Files.readString(wcs), args + " changed OUT");
        }
        assertTrue(run("trace", "convert", "--cache-size", "64M", "--to", "fio3", "../test-data/traces/raw-mixed.v3.iolog.gz",
                wcs.toString()).err().contains("--cache-size: not for --to fio3"));
        Run refused = run("trace", "convert", "--table", "pause_writeback 0", "../test-data/traces/raw-mixed.v3.iolog.gz", wcs.toString());
        assertEquals("dmwc: --table 'pause_writeback 0': the target refuses the table in pmem mode: EINVAL: Invalid optional argument "
                + "(features alone make an '@' table, which the runner's --mode may run in either mode; for ssd mode only, name it: "
                + "'s 4096 2 pause_writeback 0'); a script with it would fail at create\n", refused.err());
        assertEquals("dmwc: --table 'high_watermark 10 low_watermark 20': the target refuses the table in ssd mode: EINVAL: High "
                + "watermark must be greater than or equal to low watermark; a script with it would fail at create\n",
                run("trace", "convert", "--table", "high_watermark 10 low_watermark 20", "../test-data/traces/raw-mixed.v3.iolog.gz",
                        wcs.toString()).err(), "refused in both modes: no mode to name");
        Run part = run("trace", "convert", bad.toString(), wcs.toString());
        assertEquals(2, part.code(), part.err());
        assertTrue(part.err().contains(bad + ":5: write at byte 100 of 512 bytes is not whole 512-byte sectors"), part.err());
        assertEquals(before, Files.readString(wcs));
        assertEquals(0, run("trace", "convert", "--table", "s 4096 2 start_sector 131056", "--cache-size", "64M",
                "../test-data/traces/raw-mixed.v3.iolog.gz", wcs.toString()).code(), "8 KiB left: the metadata and one block");
        Run noRoom = run("trace", "convert", "--table", "s 4096 2 start_sector 131064", "--cache-size", "64M",
                "../test-data/traces/raw-mixed.v3.iolog.gz", wcs.toString());
        assertTrue(noRoom.err().contains("the target refuses the table in ssd mode: ENOSPC: Invalid device size"), noRoom.err());
        Run noRoomPmem = run("trace", "convert", "--table", "p 4096 2 start_sector 28664", "--cache-size", "14M",
                "../test-data/traces/raw-mixed.v3.iolog.gz", wcs.toString());
        assertTrue(noRoomPmem.err().contains("the target refuses the table in pmem mode: ENOSPC: Unable to initialize device"),
                noRoomPmem.err());
        assertEquals(0, run("trace", "convert", "--requests", "1", bad.toString(), wcs.toString()).code(),
                "the request before the bad one converts");
        // ext4-tree's first 500 requests hold writes of 7-16 MiB: by default they go as writes of at most 1 MiB
        Path tree = dir.resolve("tree.wcs");
        for (String max : new String[] {null, "0", "2M"}) {
            List<String> a = new ArrayList<>(List.of("trace", "convert", "--requests", "500"));
            if (max != null) {
                a.addAll(List.of("--max-write", max));
            }
            a.addAll(List.of("../test-data/traces/ext4-tree.blktrace.0.gz", tree.toString()));
            Run r = run(a.toArray(String[]::new));
            assertEquals(0, r.code(), max + ": " + r.err());
            long longest = Files.readAllLines(tree).stream().filter(l -> l.startsWith("write ")).mapToLong(l -> Long.parseLong(l.split(" ")[2]))
                    .max().orElse(0);
            assertEquals(max == null ? 2048 : max.equals("2M") ? 4096 : 32768, longest, "--max-write " + max);
        }
        Path log = dir.resolve("first.iolog");
        Run fio = run("trace", "convert", "--requests", "10", "../test-data/traces/raw-mixed.v3.iolog.gz", log.toString());
        assertEquals(log + ": 10 requests written as fio iolog v3\n", fio.out(), "--requests takes the first N in a fio log too");
    }

    /**
     * Standard output on a full disk (/dev/full): a report or a log cut short exits 1 and says so, where
     * a PrintStream would swallow the error and exit 0; a conversion stops at its first failed write. Into
     * a pipe closed early, it ends as SIGPIPE would have ended it.
     */
    @Test
    void aFullDiskUnderStandardOutputIsAnError() throws Exception {
        if (!Files.isWritable(Path.of("/dev/full"))) {
            System.err.println("SKIPPED: no writable /dev/full on this machine: a full disk under standard output is not tested");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(Path.of("/dev/full")), "no /dev/full on this machine");
        String trace = "../test-data/traces/raw-mixed.v3.iolog.gz";
        for (List<String> args : List.of(List.of("trace", "stats", "--json", trace), List.of("trace", "convert", trace, "-"),
                List.of("dump", kernelImage("ssd-recovery", "cache.img").toString()))) {
            List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            cmd.addAll(args);
            Path err = dir.resolve("err.txt");
            Process p = new ProcessBuilder(cmd).redirectOutput(new java.io.File("/dev/full")).redirectError(err.toFile()).start();
            assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), args.toString());
            assertEquals(1, p.exitValue(), args + ": " + Files.readString(err));
            assertTrue(Files.readString(err).contains("dmwc: cannot write standard output: what was written there is incomplete"),
                    args + ": " + Files.readString(err));
            assertFalse(Files.readString(err).contains("requests written"), "no summary of a log that was not written");
        }
        // into a pipe whose reader has gone (dmwc … | head): the exit of a process SIGPIPE ended, and nothing said
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "trace", "convert", trace, "-"));
        Path err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        byte[] head = p.getInputStream().readNBytes(64);
        assertTrue(new String(head, java.nio.charset.StandardCharsets.UTF_8).startsWith("fio version 3 iolog"));
        p.getInputStream().close();
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(141, p.exitValue(), Files.readString(err));
        assertEquals("", Files.readString(err), "head's pipe closing is not an error to report");
    }

    /**
     * In the C locale (ASCII) a report's "µs" prints as "us" and help's "…" as "...", not "?"; in a
     * UTF-8 one as they are. The report goes through System.out, the help through picocli's writer.
     */
    @Test
    void nonAsciiTextPrintsReadablyInTheCLocale() throws Exception {
        for (String locale : List.of("C", "C.UTF-8")) {
            boolean ascii = locale.equals("C");
            String report = inLocale(locale, "replay", "-q", "--mode", "s", "--work-dir", dir.toString(), "--limit", "500",
                    "../test-data/traces/raw-mixed.v3.iolog.gz");
            assertTrue(report.contains(ascii ? "p50 us" : "p50 µs") && !report.contains("?"), locale + ": " + report);
            String help = inLocale(locale, "replay", "--help");
            assertTrue(help.contains(ascii ? "several us a page" : "several µs a page") && !help.contains("?"), locale + ": " + help);
        }
    }

    /** dmwc's standard output, run with {@code LC_ALL=locale} and no other locale variable; it must exit 0. */
    private String inLocale(String locale, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(childCommand(args)).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().keySet().removeIf(k -> k.startsWith("LC_") || k.equals("LANG"));
        pb.environment().put("LC_ALL", locale);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    /** trace stats and convert take one volume and tolerate bad lines as replay does; a fio log of several volumes is refused. */
    @Test
    void traceStatsAndConvertSelectAVolumeAndSkipBadLines() throws Exception {
        String ali = "../test-data/traces/edge/alibaba.csv";
        Run all = run("trace", "stats", "--json", ali);
        assertEquals(0, all.code(), all.err());
        String a = all.out().replaceAll("\\s+", "");
        assertTrue(a.contains("\"requests\":3,") && a.contains("\"volumes\":{\"0\":2,\"3\":1}"), all.out());
        Run one = run("trace", "stats", "--json", "--volume", "0", ali);
        String o = one.out().replaceAll("\\s+", "");
        assertTrue(o.contains("\"requests\":2,") && o.contains("\"volumes\":{\"0\":2,\"3\":1}") && o.contains("\"volume\":\"0\""), one.out());
        Run none = run("trace", "stats", "--volume", "9", ali);
        assertEquals(2, none.code());
        assertTrue(none.err().contains("no volume '9' in the trace (it has: 0, 3)"), none.err());
        Path out = dir.resolve("vol.iolog");
        Run mixed = run("trace", "convert", ali, out.toString());
        assertEquals(2, mixed.code());
        assertTrue(mixed.err().contains("the trace has more than one volume (0, 3, …); a fio log is one file: convert one with --volume ID"),
                mixed.err());
        assertFalse(Files.exists(out) || Files.exists(dir.resolve("vol.iolog.part")), "nothing written");
        Run conv = run("trace", "convert", "--volume", "3", ali, out.toString());
        assertEquals(0, conv.code(), conv.err());
        assertTrue(conv.out().contains("1 requests written as fio iolog v3 (volume 3)"), conv.out());
        assertTrue(Files.readString(out).contains(" write 0 4096\n"), Files.readString(out));
        // OUT '-': the log on standard output, the same as the file; the summary on standard error
        Run piped = run("trace", "convert", "--volume", "3", ali, "-");
        assertEquals(0, piped.code(), piped.err());
        assertEquals(Files.readString(out), piped.out());
        assertTrue(piped.err().contains("stdout: 1 requests written as fio iolog v3 (volume 3)"), piped.err());
        String spc = "../test-data/traces/edge/spc-with-bad-line.csv";
        // refused on standard output too, with nothing written there: a bad line after good ones, a volume it lacks
        for (String[] refused : new String[][] {{"--volume", "0", spc, "-"}, {"--volume", "9", ali, "-"}}) {
            String[] args = new String[refused.length + 2];
            args[0] = "trace";
            args[1] = "convert";
            System.arraycopy(refused, 0, args, 2, refused.length);
            Run r = run(args);
            assertEquals(2, r.code(), r.err());
            assertEquals("", r.out(), "no partial log on stdout");
        }
        Run bad = run("trace", "stats", spc);
        assertEquals(2, bad.code());
        Run skipped = run("trace", "stats", "--skip-bad", "1", spc);
        assertEquals(0, skipped.code(), skipped.err());
        assertTrue(skipped.out().contains("bad lines skipped: 1 (first: " + spc + ":4: "), skipped.out());
        Run conv2 = run("trace", "convert", "--skip-bad", "1", "--volume", "0", spc, dir.resolve("spc.iolog").toString());
        assertEquals(0, conv2.code(), conv2.err());
        assertTrue(conv2.out().contains("bad lines skipped: 1"), conv2.out());
        assertEquals(2, run("trace", "stats", "--skip-bad", "-1", spc).code());
        // --events D where it applies: a blkparse trace's dispatches, alone or beside a fio log
        Run d = run("trace", "stats", "--events", "D", "../test-data/traces/ext4-tree.blkparse.txt.gz");
        assertEquals(0, d.code(), d.err());
        Run withFio = run("trace", "stats", "--events", "D", "../test-data/traces/ext4-tree.blkparse.txt.gz", "../test-data/traces/edge/fio3.iolog");
        assertEquals(0, withFio.code(), withFio.err());
        Run q = run("trace", "stats", "../test-data/traces/ext4-tree.blkparse.txt.gz");
        assertFalse(d.out().equals(q.out()), "D events are not the Q events");
    }

    /** fio (installed by .ci/run) replays a converted log: every read and write of the trace is issued. */
    @org.junit.jupiter.api.Test
    void fioAcceptsAConvertedIolog() throws Exception {
        boolean haveFio = java.util.stream.Stream.of(System.getenv("PATH").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "fio")));
        if (!haveFio) {
            System.err.println("SKIPPED: fio is not installed (apt-get install fio; .ci/run installs it)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(haveFio, "fio is not installed");
        Path log = dir.resolve("t.v3.iolog");
        org.junit.jupiter.api.Assertions.assertEquals(0,
                run("trace", "convert", "../test-data/traces/ext4-tree.blkparse.txt.gz", log.toString()).code());
        Path scratch = dir.resolve("scratch.img");
        try (var f = new java.io.RandomAccessFile(scratch.toFile(), "rw")) {
            f.setLength(256L << 20);
        }
        Process p = new ProcessBuilder("fio", "--name=replay", "--read_iolog=" + log, "--ioengine=psync",
                "--filename=" + scratch, "--size=256m", "--replay_no_stall=1", "--replay_redirect=" + scratch,
                "--output-format=json").redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.getErrorStream().readAllBytes();
        org.junit.jupiter.api.Assertions.assertEquals(0, p.waitFor(), out);
        // the trace's reads: 82.4 MB (shared/traces/README.md); writes 126.5 MB
        org.junit.jupiter.api.Assertions.assertTrue(out.contains("\"io_bytes\" : 82408448"),
                "fio read the trace's 82.4 MB: " + out.substring(0, Math.min(2000, out.length())));
        org.junit.jupiter.api.Assertions.assertTrue(out.contains("\"io_bytes\" : 126464000"), "and wrote its 126.5 MB");
    }

    /**
     * Caches too large for this machine are refused before their device is touched: a pmem cache
     * file larger than its file system can back (a DAX range is backed whole), and an ssd cache
     * whose metadata area cannot fit the Java heap (the kernel's text for a failed allocation; a
     * pmem cache's entries that cannot fit: HeapCheckTest). A 1 TiB cache used to have gigabytes of
     * metadata initialized, then die of OutOfMemoryError.
     */
    @Test
    void aCacheTooLargeForThisMachineIsRefusedBeforeItIsTouched() throws Exception {
        long bytes = Files.getFileStore(dir).getUsableSpace() / 4096 * 4096 + (1L << 30); // a GiB more than is free
        Path cache = dir.resolve("huge-pmem.img");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(cache.toFile(), "rw")) {
            f.setLength(bytes);
        }
        Run r = run("serve", "--mode", "p", "--listen", "unix:" + dir.resolve("heap.sock"), "--origin-size", "64M", "--cache",
                cache.toString(), "--protection", "software");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("no space left on the device under " + cache + " to back it whole"), r.err());
        assertEquals(bytes, Files.size(cache));
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(cache)) {
            java.nio.ByteBuffer first = java.nio.ByteBuffer.allocate(1 << 20);
            ch.read(first, 0);
            for (int i = 0; i < first.capacity(); i++) {
                assertEquals(0, first.get(i), "the superblock area is untouched, byte " + i);
            }
        }
        Process stat = new ProcessBuilder("stat", "-c", "%b", cache.toString()).start();
        String blocks = new String(stat.getInputStream().readAllBytes()).trim();
        assertEquals(0, stat.waitFor());
        assertTrue(Long.parseLong(blocks) < 1024, "nothing was allocated: " + blocks + " blocks");
        // ssd mode keeps its metadata area in one Java buffer: 1 TiB at 4 KiB blocks is 4 GiB of it
        Path ssd = dir.resolve("huge-ssd.img");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(ssd.toFile(), "rw")) {
            f.setLength(1L << 40);
        }
        Run s = run("serve", "--mode", "s", "--listen", "unix:" + dir.resolve("heap.sock"), "--origin-size", "64M", "--cache",
                ssd.toString());
        assertEquals(2, s.code(), s.err());
        assertTrue(s.err().contains("ENOMEM: Unable to allocate memory for metadata"), s.err());
        assertEquals(1L << 40, Files.size(ssd));
    }

    @Test
    void benchPrintsEveryPhaseWithItsBaselineAsTableAndJson() throws Exception {
        Path rJson = dir.resolve("bench-text-run.json");
        Run r = run("bench", "--modes", "s", "--origin-size", "64M", "--cache-size", "8M", "--scale", "0.05", "-q",
                "--origin-model", "latency=20us,bandwidth=400M", "--json", rJson.toString());
        assertEquals(0, r.code(), r.err());
        for (String p : dev.dmwc.writecache.bench.Bench.PHASES) {
            assertTrue(r.out().contains("\n  " + p + " "), p + " in\n" + r.out());
        }
        assertTrue(r.out().contains("x raw copy into a mapped file (median") && r.out().contains("x origin sequential write"), r.out());
        assertTrue(java.util.regex.Pattern.compile("median of 7 paired rounds; rounds \\d+\\.\\d\\d-\\d+\\.\\d\\d\\)").matcher(r.out()).find(),
                "the rounds' range beside the median: " + r.out());
        Run j = run("bench", "--modes", "p", "--phases", "absorb,drain", "--origin-size", "64M", "--cache-size", "8M", "--json",
                "--origin-model", "file", "--protection", "software");
        assertEquals(0, j.code(), j.err());
        assertTrue(j.out().contains("\"phase\": \"absorb\"") && j.out().contains("\"phase\": \"drain\"")
                && j.out().contains("\"baseline_copy_mb_per_s\"") && j.out().contains("\"ratio\""), j.out());
        // the baseline's mapping is the cache's data area (an 8 MiB cache fits: the size is not named in the text)
        java.util.regex.Matcher map = java.util.regex.Pattern.compile("\"baseline_copy_mapping_bytes\": (\\d+)").matcher(j.out());
        java.util.regex.Matcher blocks = java.util.regex.Pattern.compile("\"status\": \"\\d+ (\\d+) ").matcher(j.out());
        assertTrue(map.find() && blocks.find(), j.out());
        assertEquals(Long.parseLong(blocks.group(1)) * 4096, Long.parseLong(map.group(1)), j.out());
        assertTrue(j.out().contains("\"baseline_copy_dir\": \"" + dev.dmwc.writecache.block.ScratchFiles.defaultDir() + "\""), j.out());
        // the header's copy figure is the one absorb's ratio is taken against: its paired rounds' median
        // (it was a single cold pass, a third of that, beside a ratio that did not follow from it)
        java.util.regex.Matcher absorbBase = java.util.regex.Pattern.compile("(?s)\"phase\": \"absorb\",.*?\"baseline_mb_per_s\": ([0-9.]+)")
                .matcher(Files.readString(rJson));
        assertTrue(absorbBase.find(), Files.readString(rJson));
        java.util.regex.Matcher header = java.util.regex.Pattern.compile("raw copy (\\d+) MB/s \\(median of absorb's paired rounds, in "
                + java.util.regex.Pattern.quote(dev.dmwc.writecache.block.ScratchFiles.defaultDir().toString()) + "; \\d+ in one pass before the phases\\)")
                .matcher(r.out());
        assertTrue(header.find(), r.out());
        assertEquals(Double.parseDouble(absorbBase.group(1)), Double.parseDouble(header.group(1)), 1.0, r.out());
        Run drainOnly = run("bench", "--modes", "s", "--phases", "drain", "--origin-size", "64M", "--cache-size", "8M", "-q",
                "--origin-model", "file");
        assertEquals(0, drainOnly.code(), drainOnly.err());
        assertTrue(drainOnly.out().contains("MB/s (one pass, in " + dev.dmwc.writecache.block.ScratchFiles.defaultDir() + "), origin sequential"),
                drainOnly.out());
        // --baseline-dir: the baseline's file goes there (on a DAX file system, into persistent memory), and is gone after
        Path bdir = Files.createDirectories(dir.resolve("baseline"));
        Run b = run("bench", "--modes", "p", "--phases", "absorb", "--rounds", "1", "--origin-size", "64M", "--cache-size", "8M",
                "--json", "--origin-model", "file", "--protection", "software", "--baseline-dir", bdir.toString());
        assertEquals(0, b.code(), b.err());
        assertTrue(b.out().contains("\"baseline_copy_dir\": \"" + bdir + "\""), b.out());
        try (var left = Files.list(bdir)) {
            assertEquals(0, left.count(), "the baseline's file is removed");
        }
        // the baseline's space is checked where it goes, not in /dev/shm: /proc has none, so nothing is made
        Run proc = run("bench", "--modes", "p", "--phases", "absorb", "--origin-size", "64M", "--cache-size", "8M", "--baseline-dir", "/proc");
        assertEquals(2, proc.code(), proc.err());
        assertTrue(proc.err().contains("the files bench makes would not fit: they take 8.0 MiB in /proc (the copy baseline 8.0 MiB)")
                && proc.err().contains("--baseline-dir"), proc.err());
        Run noDir = run("bench", "--modes", "p", "--baseline-dir", dir.resolve("missing").toString());
        assertEquals(2, noDir.code());
        assertTrue(noDir.err().contains("--baseline-dir: " + dir.resolve("missing") + " is not a directory"), noDir.err());
        // both devices faulted in before the phases, unless --no-prefault
        assertTrue(java.util.regex.Pattern.compile("\"prefault_seconds\": \\d").matcher(j.out()).find(), j.out());
        assertTrue(r.out().contains("every page of both devices faulted in beforehand"), r.out());
        Run cold = run("bench", "--modes", "s", "--phases", "absorb", "--rounds", "1", "--origin-size", "64M", "--cache-size", "8M",
                "--json", "--origin-model", "file", "--no-prefault");
        assertEquals(0, cold.code(), cold.err());
        assertTrue(cold.out().contains("\"prefault_seconds\": null"), cold.out());
        // a device file the user gives is not faulted in unless asked (a sparse file on disk would be allocated whole)
        java.nio.file.Path given = java.nio.file.Files.createTempDirectory("dmwc-bench-given").resolve("origin.img");
        Run own = run("bench", "--modes", "s", "--phases", "absorb", "--rounds", "1", "--origin", given.toString(), "--origin-size", "64M",
                "--cache-size", "8M", "--json", "--origin-model", "file");
        assertEquals(0, own.code(), own.err());
        assertTrue(own.out().contains("\"prefault_seconds\": null"), own.out());
        Run asked = run("bench", "--modes", "s", "--phases", "absorb", "--rounds", "1", "--origin", given.toString(), "--json",
                "--origin-model", "file", "--cache-size", "8M", "--prefault");
        assertEquals(0, asked.code(), asked.err());
        assertTrue(java.util.regex.Pattern.compile("\"prefault_seconds\": \\d").matcher(asked.out()).find(), asked.out());
        java.nio.file.Files.deleteIfExists(given);
        java.nio.file.Files.deleteIfExists(given.getParent());
        assertTrue(r.out().contains("wb ") && r.out().contains(" x origin sequential write, 1 MiB"), "overflow's write-back ratio: " + r.out());
        // a list of thread counts: one run per count, each with its own baseline and header
        Run sweep = run("bench", "--modes", "s", "--phases", "absorb", "--threads", "1,2", "--rounds", "1", "--origin-size", "64M",
                "--cache-size", "8M", "--json", "--origin-model", "file");
        assertEquals(0, sweep.code(), sweep.err());
        assertTrue(sweep.out().contains("\"threads\": 1,") && sweep.out().contains("\"threads\": 2,"), sweep.out());
        assertEquals(3, sweep.out().split("\"phase\": \"absorb\"", -1).length - 1, "two runs and the scaling: " + sweep.out());
        assertTrue(sweep.out().contains("\"by_threads\"") && java.util.regex.Pattern.compile("\"vs_first\": 1(\\.0)?\\s*[,}]").matcher(sweep.out()).find(), sweep.out());
        Run sweepTable = run("bench", "--modes", "s", "--phases", "absorb", "--threads", "1,2", "--rounds", "1", "--origin-size", "64M",
                "--cache-size", "8M", "-q", "--origin-model", "file");
        assertTrue(sweepTable.out().contains("mode s, 4096-byte blocks, 1 submitting thread:")
                && sweepTable.out().contains("mode s, 4096-byte blocks, 2 submitting threads:"),
                sweepTable.out());
        assertTrue(sweepTable.out().contains("mode s, 4096-byte blocks, IOPS by submitting threads (x the first count):")
                && sweepTable.out().contains("(1.00 x)"), sweepTable.out());
        assertEquals(2, run("bench", "--threads", "1,0").code());
        // scratch devices that cannot fit: refused before any file is made, prefaulted or not
        Run huge = run("bench", "--modes", "s", "--phases", "absorb", "--origin-size", "64T");
        assertEquals(2, huge.code(), huge.err());
        assertTrue(huge.err().contains("the files bench makes would not fit: they take ") && huge.err().contains("in /dev/shm (origin 65536.0 GiB, cache 256.0 MiB"), huge.err());
        assertEquals(2, run("bench", "--modes", "s", "--phases", "absorb", "--origin-size", "64T", "--no-prefault").code());
        // a device file named but missing is made where it is named: its space is checked there, not in /dev/shm
        Path farOrigin = dir.resolve("far-origin.img");
        Run far = run("bench", "--modes", "s", "--phases", "absorb", "--origin", farOrigin.toString(), "--origin-size", "64T");
        assertEquals(2, far.code(), far.err());
        assertTrue(far.err().contains("the files bench makes would not fit: they take 65536.0 GiB in " + dir + " (origin 65536.0 GiB)"),
                far.err());
        assertFalse(Files.exists(farOrigin), "no origin made");
        // device files given: the copy baseline, a file of the cache's size in /dev/shm, is capped at 1 GiB,
        // so a 1 TiB cache file is not refused for it (the ssd metadata of so big a cache is, further on)
        if (Files.getFileStore(Path.of("/dev/shm")).getUsableSpace() < (1L << 40)) {
            Path o = dir.resolve("o.img");
            Path c = dir.resolve("c.img");
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(c.toFile(), "rw")) {
                f.setLength(1L << 40); // sparse: the test's file system need not hold it
            }
            Run baseline = run("bench", "--modes", "s", "--phases", "absorb", "--origin", o.toString(), "--cache", c.toString(),
                    "--origin-size", "64M");
            assertEquals(2, baseline.code(), baseline.err());
            assertTrue(!baseline.err().contains("would not fit") && baseline.err().contains("at most 2 GiB"), baseline.err());
            assertFalse(Files.exists(o), "no origin made");
        }
        Run badSize = run("bench", "--block-size", "4096,1000");
        assertEquals(2, badSize.code());
        assertTrue(badSize.err().contains("--block-size 1000: the table would be refused (Invalid block size"), badSize.err());
        // the devices' --mode means one mode here, as --modes would (it used to be overwritten: both ran)
        Run one = run("bench", "--mode", "p", "--phases", "absorb", "--rounds", "1", "--origin-size", "64M", "--cache-size", "8M",
                "--json", "--origin-model", "file", "--protection", "software");
        assertEquals(0, one.code(), one.err());
        assertTrue(one.out().contains("\"mode\": \"p\"") && !one.out().contains("\"mode\": \"s\""), one.out());
        assertEquals(2, run("bench", "--mode", "p", "--modes", "s").code());
        // a list of block sizes: one run per size, each with its own table line
        Run sizes = run("bench", "--modes", "s", "--phases", "absorb", "--block-size", "512,4096", "--rounds", "1", "--origin-size", "64M",
                "--cache-size", "8M", "--json", "--origin-model", "file");
        assertEquals(0, sizes.code(), sizes.err());
        assertTrue(sizes.out().contains("\"block_size\": 512,") && sizes.out().contains("\"block_size\": 4096,")
                && sizes.out().contains(" 512 0\"") && sizes.out().contains(" 4096 0\""), sizes.out());
        Run bad = run("bench", "--phases", "absorb,warp");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("unknown phase 'warp'"), bad.err());
        Run badModel = run("bench", "--origin-model", "fast");
        assertEquals(2, badModel.code());
        assertTrue(badModel.err().contains("origin model 'fast'"), badModel.err());
    }

    @Test
    void statusAndMessageTalkToARunningServe() throws Exception {
        Path sock = dir.resolve("wc.sock");
        Path ctl = Path.of(sock + ".ctl");
        // a real serve in a child JVM, stopped at the end (SIGTERM)
        try (dev.dmwc.writecache.nbd.ServeProcess serve = new dev.dmwc.writecache.nbd.ServeProcess(java.util.List.of(
                "--listen", "unix:" + sock, "--origin-size", "64M", "--cache-size", "8M",
                "--origin", dir.resolve("o.img").toString(), "--cache", dir.resolve("c.img").toString()))) {
            statusAndMessage(sock, ctl);
            assertEquals(0, serve.stop(), serve.output());
            assertTrue(serve.output().contains("target suspended"), serve.output());
        }
        assertTrue(!Files.exists(ctl), "the control socket is removed at exit");
        assertTrue(!Files.exists(sock), "the NBD socket is removed at exit");
    }

    @Test
    void serveRefusesBadOptionsBeforeTouchingAnyDevice() throws Exception {
        Path cache = dir.resolve("new-cache.img");
        Path origin = dir.resolve("new-origin.img");
        String[][] bad = {
            {"--listen", "udp:1"}, {"--listen", "tcp:localhost"}, {"--dispatch", "sideways"}, {"--mode", "x"},
            {"--origin-model", "warp"}, {"--table", "bogus 1"}, {"--block-size", "512,4096"},
            {"--table", "p 4096 1 high_watermark 60"}, {"--table", "q 4096 0"}, {"--mode", "s", "--table", "p 4096 0"},
            {"--table", "s 4096 2 high_watermark 200"}, {"--protection", "bogus"}, {"--fault-mode", "loose"},
            {"--mode", "p", "--protection", "pku"}};
        for (String[] b : bad) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("serve", "--listen", "unix:" + dir.resolve("s.sock"),
                    "--origin", origin.toString(), "--cache", cache.toString(), "--origin-size", "8M", "--cache-size", "2M"));
            args.addAll(java.util.List.of(b));
            Run r = withoutPku(() -> run(args.toArray(String[]::new)));
            assertEquals(2, r.code(), java.util.Arrays.toString(b) + ": " + r.err());
            assertTrue(r.err().startsWith("dmwc: "), r.err());
            assertTrue(!Files.exists(cache) && !Files.exists(origin), java.util.Arrays.toString(b) + " left a device file");
        }
        Files.write(origin, new byte[1000]); // not a whole number of sectors
        Run odd = run("serve", "--listen", "unix:" + dir.resolve("s.sock"), "--origin", origin.toString(), "--cache", cache.toString());
        assertEquals(2, odd.code(), odd.err());
        assertTrue(odd.err().contains("multiple of 512"), odd.err());
        assertEquals(1000, Files.size(origin), "the origin is untouched");
        Run same = run("serve", "--listen", "unix:" + dir.resolve("s.sock"), "--origin", origin.toString(), "--cache",
                dir.resolve(".").resolve(origin.getFileName()).toString());
        assertEquals(2, same.code(), same.err());
        assertEquals("dmwc: --origin and --cache name the same file", same.err().strip());
        // a --listen path that is a file: refused, the file kept, no device made
        Path notes = Files.writeString(dir.resolve("notes.txt"), "keep");
        Run onFile = run("serve", "--listen", "unix:" + notes, "--origin", dir.resolve("o2.img").toString(), "--cache",
                dir.resolve("c2.img").toString());
        assertEquals(2, onFile.code(), onFile.err());
        assertTrue(onFile.err().contains("exists and is not a socket (a file); not replaced"), onFile.err());
        assertEquals("keep", Files.readString(notes));
        assertFalse(Files.exists(dir.resolve("o2.img")) || Files.exists(dir.resolve("c2.img")), "no device made");
        // a --control path that is a file: refused before the devices too, and the NBD socket goes again
        Run ctlOnFile = run("serve", "--listen", "unix:" + dir.resolve("s3.sock"), "--control", notes.toString(), "--origin",
                dir.resolve("o2.img").toString(), "--cache", dir.resolve("c2.img").toString());
        assertEquals(2, ctlOnFile.code(), ctlOnFile.err());
        assertTrue(ctlOnFile.err().contains("cannot make the control socket: " + notes + " exists and is not a socket"), ctlOnFile.err());
        assertEquals("keep", Files.readString(notes));
        assertFalse(Files.exists(dir.resolve("o2.img")) || Files.exists(dir.resolve("s3.sock")), "nothing left");
        assertEquals(1000, Files.size(origin), "the origin is untouched");
    }

    /** A serve still opening its devices answers on its control socket already; status says it is starting. */
    @Test
    void statusOfAServeThatIsStartingSaysSo() throws Exception {
        Path ctl = dir.resolve("starting.ctl");
        dev.dmwc.writecache.nbd.ControlSocket c = new dev.dmwc.writecache.nbd.ControlSocket(ctl,
                line -> Json.of(java.util.Map.of("ok", false, "error", "dmwc serve is starting")));
        try {
            Run r = run("status", "--control", ctl.toString());
            assertEquals(2, r.code(), r.out() + r.err());
            assertEquals("dmwc: status: dmwc serve is starting", r.err().strip());
            assertTrue(r.out().isEmpty(), r.out());
        } finally {
            c.close();
        }
    }

    private void statusAndMessage(Path sock, Path ctl) {
        Run st = run("status", "--listen", "unix:" + sock, "--json");
        assertEquals(0, st.code(), st.err());
        assertTrue(st.out().contains("\"free_blocks\"") && st.out().contains("\"connections\": 0"), "[" + st.out() + "]" + st.err());
        assertTrue(st.out().contains("\"stray_accesses\": 0"), "pmem mode (the default): the protection's count: " + st.out());
        Run human = run("status", "--listen", "unix:" + sock);
        // the default table of architecture.md §4: p 4096 0
        assertTrue(human.out().startsWith("table:  0 131072 writecache p ") && human.out().lines().findFirst().orElseThrow().endsWith(" 4096 0"),
                "[" + human.out() + "]" + human.err());
        assertTrue(java.util.regex.Pattern.compile("\\n  error_text +-\\n").matcher(human.out()).find(), "no error text yet: " + human.out());
        assertEquals(0, run("message", "--listen", "unix:" + sock, "flush").code());
        Run refused = run("message", "--listen", "unix:" + sock, "warp", "9");
        assertEquals(1, refused.code());
        assertTrue(refused.err().contains("message refused"), refused.err());
        assertTrue(run("status", "--control", ctl.toString()).out().contains("flushes"), "by --control too");
        // --watch: a line an interval, with the rates of the writes a client makes meanwhile
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.CompletableFuture<Long> writer = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return dev.dmwc.writecache.nbd.NbdTestClient.writeUntil(java.net.UnixDomainSocketAddress.of(sock), 4L << 20, stop::get);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Run watch;
        Run watchJson;
        try {
            watch = run("status", "--listen", "unix:" + sock, "--watch", "0.3", "--count", "3");
            watchJson = run("status", "--listen", "unix:" + sock, "--watch", "0.3", "--count", "2", "--json");
        } finally {
            stop.set(true);
        }
        assertTrue(writer.join() > 0, "the client wrote");
        assertEquals(0, watch.code(), watch.err());
        List<String> lines = watch.out().lines().toList();
        assertEquals(4, lines.size(), watch.out());
        assertTrue(lines.get(0).startsWith("time") && lines.get(0).contains("writes/s") && lines.get(0).contains("nbd req/s"), lines.get(0));
        for (String row : lines.subList(1, 4)) {
            String[] f = row.trim().split("\\s+");
            assertTrue(Double.parseDouble(f[6]) > 0 && Double.parseDouble(f[11]) > 0, "writes/s and nbd req/s in " + row);
        }
        assertEquals(0, watchJson.code(), watchJson.err());
        List<String> objects = watchJson.out().lines().toList();
        assertEquals(2, objects.size(), watchJson.out());
        assertTrue(objects.stream().allMatch(o -> o.startsWith("{\"time\": ") && o.contains("\"writes_per_s\": ")
                && o.endsWith("}")), watchJson.out());
        // its reader gone (status --watch 1 | head): the watch ends, where it went on printing into nothing for ever
        int closed = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                () -> runIntoAClosedPipe("status", "--listen", "unix:" + sock, "--watch", "0.1"));
        assertTrue(closed == 141 || closed == 1, "the exit of a process whose output went nowhere: " + closed);
        assertEquals(2, run("status", "--listen", "unix:" + sock, "--count", "2").code());
        assertEquals(2, run("status", "--listen", "unix:" + sock, "--watch", "0").code());
        Run none = run("status", "--listen", "unix:" + dir.resolve("nothing.sock"));
        assertEquals(2, none.code());
        assertTrue(none.err().contains("no dmwc serve answers"), none.err());
    }
}
