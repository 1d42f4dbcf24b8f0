package dev.dmwc.writecache.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real clients against {@code dmwc serve} in a child JVM: nbdinfo, fio's nbd engine with
 * {@code verify=crc32c} across writeback and across a SIGTERM restart, qemu-img convert and
 * nbdcopy round trips. {@code .ci/run} installs the tools; where one is missing the test is
 * skipped and says so on stderr.
 */
class NbdInteropTest {
    @TempDir
    Path dir;

    static void need(String tool, String pkg) {
        boolean ok = ServeProcess.installed(tool);
        if (!ok) {
            System.err.println("SKIPPED: " + tool + " is not installed (apt-get install " + pkg + "); .ci/run installs it");
        }
        Assumptions.assumeTrue(ok, tool + " is not installed (apt-get install " + pkg + ")");
    }

    List<String> serveArgs(String mode, String cacheSize) {
        return new ArrayList<>(List.of("--listen", "unix:" + dir.resolve("wc.sock"), "--mode", mode,
                "--origin", dir.resolve("origin.img").toString(), "--origin-size", "256M",
                "--cache", dir.resolve("cache.img").toString(), "--cache-size", cacheSize));
    }

    @Test
    void nbdinfoShowsTheAdvertisedFlags() throws Exception {
        need("nbdinfo", "libnbd-bin");
        try (ServeProcess s = new ServeProcess(serveArgs("s", "16M"))) {
            StringBuilder out = new StringBuilder();
            assertEquals(0, ServeProcess.run(out, 60, "nbdinfo", "--json", s.uri), out.toString());
            String j = out.toString().replace(" ", "");
            for (String flag : List.of("can_flush", "can_fua", "can_multi_conn", "can_trim", "can_zero")) {
                assertTrue(j.contains("\"" + flag + "\":true"), flag + " in " + out);
            }
            assertTrue(j.contains("\"is_read_only\":false"), out.toString());
            assertTrue(j.contains("\"export-size\":268435456"), out.toString());
            assertTrue(j.contains("\"block_size_preferred\":4096"), out.toString());
        }
    }

    List<String> fio(String uri, String extra) {
        List<String> c = new ArrayList<>(List.of("fio", "--name=verify", "--ioengine=nbd", "--uri=" + uri, "--rw=randwrite",
                "--bs=4k", "--iodepth=16", "--size=48m", "--verify=crc32c", "--randseed=4242", "--output-format=normal",
                "--verify_state_save=0")); // else fio leaves local-verify-0-verify.state in the working directory (the module's)
        for (String e : extra.split(" ")) {
            if (!e.isBlank()) {
                c.add(e);
            }
        }
        return c;
    }

    static long statusField(Path control, String key) throws Exception {
        String reply = ControlSocket.request(control, "status");
        Matcher m = Pattern.compile("\"" + key + "\": (\\d+)").matcher(reply);
        assertTrue(m.find(), key + " in " + reply);
        return Long.parseLong(m.group(1));
    }

    @ParameterizedTest(name = "mode {0}")
    @ValueSource(strings = {"s", "p"})
    void fioVerifiesAcrossWritebackAndAcrossARestart(String mode) throws Exception {
        need("fio", "fio");
        Path control = Path.of(dir.resolve("wc.sock") + ".ctl");
        StringBuilder out = new StringBuilder();
        try (ServeProcess s = new ServeProcess(serveArgs(mode, "16M"))) {
            // 48 MiB of random writes through a 16 MiB cache, then read back and checked
            int rc = ServeProcess.run(out, 600, fio(s.uri, "--do_verify=1 --end_fsync=1").toArray(String[]::new));
            assertEquals(0, rc, out.toString());
            assertTrue(out.toString().contains("err= 0"), out.toString());
            assertTrue(statusField(control, "writeback_blocks") > 0, "writeback ran");
            assertEquals(0, statusField(control, "error"));
            // a second pass writes new data and is acknowledged; no end_fsync: only the stop commits it
            out.setLength(0);
            rc = ServeProcess.run(out, 600, fio(s.uri, "--do_verify=0 --randseed=77").toArray(String[]::new));
            assertEquals(0, rc, out.toString());
            assertEquals(0, s.stop(), s.output());
            assertTrue(s.output().contains("target suspended"), "serve output:\n" + s.output());
        }
        try (ServeProcess s = new ServeProcess(serveArgs(mode, "16M"))) {
            out.setLength(0);
            int rc = ServeProcess.run(out, 600, fio(s.uri, "--verify_only --randseed=77").toArray(String[]::new));
            assertEquals(0, rc, "after the restart: " + out);
            assertTrue(out.toString().contains("err= 0"), out.toString());
            assertTrue(statusField(control, "reads") > 0);
        }
    }

    /**
     * A serve killed with SIGKILL (no suspend, no commit at exit) and started again on its files: what fio wrote and then
     * flushed reads back, beside later writes that were never flushed. The table leaves the flush as the only commit (no
     * autocommit, and too little data for write-back, which commits what it writes back), so without it this data is lost.
     * The killed server's sockets are replaced.
     */
    @ParameterizedTest(name = "mode {0}")
    @ValueSource(strings = {"s", "p"})
    void whatWasFlushedSurvivesAKilledServe(String mode) throws Exception {
        need("fio", "fio");
        List<String> args = serveArgs(mode, "16M");
        args.addAll(List.of("--table", "autocommit_blocks 1000000 autocommit_time 3600000"));
        StringBuilder out = new StringBuilder();
        try (ServeProcess s = new ServeProcess(args)) {
            int rc = ServeProcess.run(out, 600, fio(s.uri, "--do_verify=0 --size=4m --end_fsync=1 --randseed=91").toArray(String[]::new));
            assertEquals(0, rc, out.toString());
            out.setLength(0); // then writes elsewhere that nobody flushes
            rc = ServeProcess.run(out, 600, fio(s.uri, "--do_verify=0 --offset=128m --size=2m --randseed=92").toArray(String[]::new));
            assertEquals(0, rc, out.toString());
            assertEquals(0, statusField(Path.of(dir.resolve("wc.sock") + ".ctl"), "writeback_blocks"), "no write-back committed it");
            assertEquals(137, s.kill(), s.output());
            assertFalse(s.output().contains("target suspended"), "SIGKILL runs no handler:\n" + s.output());
        }
        assertTrue(Files.exists(dir.resolve("wc.sock")), "the killed server left its socket");
        try (ServeProcess s = new ServeProcess(args)) {
            out.setLength(0);
            int rc = ServeProcess.run(out, 600, fio(s.uri, "--verify_only --size=4m --randseed=91").toArray(String[]::new));
            assertEquals(0, rc, "after SIGKILL and a restart: " + out);
            assertTrue(out.toString().contains("err= 0"), out.toString());
            assertEquals(0, statusField(Path.of(dir.resolve("wc.sock") + ".ctl"), "error"));
        }
    }

    static byte[] sha256(Path p) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p));
    }

    Path randomImage(String name, int mib) throws Exception {
        byte[] b = new byte[mib << 20];
        Random r = new Random(name.hashCode());
        for (int i = 0; i < b.length; i += 4096) {
            if (r.nextInt(4) != 0) { // leave some blocks zero, as real images do
                byte[] blk = new byte[4096];
                r.nextBytes(blk);
                System.arraycopy(blk, 0, b, i, 4096);
            }
        }
        Path p = dir.resolve(name);
        Files.write(p, b);
        return p;
    }

    @Test
    void qemuImgConvertRoundTrip() throws Exception {
        need("qemu-img", "qemu-utils");
        Path src = randomImage("src.img", 256);
        Path back = dir.resolve("back.img");
        try (ServeProcess s = new ServeProcess(serveArgs("s", "32M"))) {
            StringBuilder out = new StringBuilder();
            assertEquals(0, ServeProcess.run(out, 600, "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", src.toString(), s.uri), out.toString());
            assertEquals(0, ServeProcess.run(out, 600, "qemu-img", "convert", "-f", "raw", "-O", "raw", s.uri, back.toString()), out.toString());
        }
        assertArrayEquals(sha256(src), sha256(back), "qemu-img round trip through the cache");
    }

    @Test
    void nbdcopyRoundTripWithFlushAndMultipleConnections() throws Exception {
        need("nbdcopy", "libnbd-bin");
        Path src = randomImage("src.img", 256);
        Path back = dir.resolve("back.img");
        try (ServeProcess s = new ServeProcess(serveArgs("p", "32M"))) {
            StringBuilder out = new StringBuilder();
            assertEquals(0, ServeProcess.run(out, 600, "nbdcopy", "--flush", "--connections=4", src.toString(), s.uri), out.toString());
            assertEquals(0, ServeProcess.run(out, 600, "nbdcopy", s.uri, back.toString()), out.toString());
            assertTrue(statusField(Path.of(dir.resolve("wc.sock") + ".ctl"), "connections") >= 4, "nbdcopy used several connections");
        }
        assertArrayEquals(sha256(src), sha256(back), "nbdcopy round trip through the cache");
    }
}
