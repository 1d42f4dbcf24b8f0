package dev.dmwc.writecache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A command's Ctrl-C handling ends with the command: in-process callers (the tests) are not left with it. */
class SignalsTest {
    @TempDir
    Path dir;

    /** Runs one replay in-process, says so on stdout, then waits to be stopped. */
    public static void main(String[] args) throws Exception {
        int code = Main.commandLine().execute("replay", "-q", "--work-dir", args[1], args[0]);
        System.out.println("command exit code " + code); // not "replayed ...": the report has a line that starts so
        System.out.flush();
        Thread.sleep(120_000);
    }

    /** A child JVM on the test's class path running {@code mainClass} with {@code args}, its output going to {@code out}. */
    private static Process child(Path out, String mainClass, String... args) throws java.io.IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String f : System.getProperty("dmwc.test.jvmFlags", "").split(" ")) {
            if (!f.isBlank()) {
                cmd.add(f);
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    }

    @Test
    void aSigtermAfterACommandStopsTheProcessAsByDefault() throws Exception {
        Path trace = Files.writeString(dir.resolve("t.iolog"), "fio version 3 iolog\n0 f add\n0 f open\n10 f write 0 4096\n");
        Path out = dir.resolve("out.txt");
        Process p = child(out, SignalsTest.class.getName(), trace.toString(), dir.toString());
        try {
            long deadline = System.currentTimeMillis() + 60_000;
            while (!Files.readString(out).contains("command exit code ") && System.currentTimeMillis() < deadline && p.isAlive()) {
                Thread.sleep(20);
            }
            assertTrue(Files.readString(out).contains("command exit code 0"), Files.readString(out));
            p.toHandle().destroy(); // SIGTERM
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the replay's handler outlived it and swallowed the SIGTERM: " + Files.readString(out));
            assertEquals(143, p.exitValue(), Files.readString(out));
        } finally {
            p.destroyForcibly();
        }
    }

    /**
     * A replay killed with SIGKILL runs no exit hook and leaves its scratch devices; the next replay in
     * the same directory removes them and says so, and keeps what is not dmwc's.
     */
    @Test
    void aReplayAfterOneKilledRemovesWhatThatOneLeft() throws Exception {
        Path trace = dir.resolve("long.iolog");
        try (java.io.BufferedWriter w = Files.newBufferedWriter(trace)) {
            w.write("fio version 3 iolog\n0 f add\n0 f open\n");
            for (int i = 0; i < 2_000_000; i++) { // seconds of replay, where the kill below comes once its devices exist
                w.write(i + " f write " + (long) (i % 65_536) * 4096 + " 4096\n");
            }
            w.write("2000000 f close\n");
        }
        Path work = Files.createDirectory(dir.resolve("work"));
        Path users = Files.createFile(work.resolve("dmwc-notes.txt"));
        Path out = dir.resolve("killed.txt");
        Process p = child(out, Main.class.getName(), "replay", "-q", "--no-data", "--work-dir", work.toString(), trace.toString());
        Path left = work.resolve("dmwc-" + p.pid() + "-replay-");
        try {
            long deadline = System.currentTimeMillis() + 60_000;
            while (scratchOf(work, p.pid()) == null && p.isAlive() && System.currentTimeMillis() < deadline) {
                Thread.sleep(2);
            }
            left = scratchOf(work, p.pid());
            assertTrue(left != null && p.isAlive(), "the replay was not caught with its devices made: " + Files.readString(out));
            p.destroyForcibly(); // SIGKILL
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertTrue(Files.exists(left), "SIGKILL runs no hook: the devices stay until a later run");
        } finally {
            p.destroyForcibly();
        }
        Path small = Files.writeString(dir.resolve("t.iolog"), "fio version 3 iolog\n0 f add\n0 f open\n10 f write 0 4096\n");
        Path next = dir.resolve("next.txt");
        Process q = child(next, Main.class.getName(), "replay", "-q", "--work-dir", work.toString(), small.toString());
        assertTrue(q.waitFor(60, TimeUnit.SECONDS), Files.readString(next));
        assertEquals(0, q.exitValue(), Files.readString(next));
        assertTrue(Files.readString(next).contains("dmwc: removed " + left + " ("), Files.readString(next));
        assertTrue(Files.readString(next).contains("left by dmwc process " + p.pid() + ", which is gone"), Files.readString(next));
        assertFalse(Files.exists(left), "the killed replay's devices are gone");
        try (java.util.stream.Stream<Path> l = Files.list(work)) {
            assertEquals(List.of(users), l.toList(), "only the user's file is left");
        }
    }

    /** The scratch directory of process {@code pid} in {@code work} once its origin device exists, or null. */
    private static Path scratchOf(Path work, long pid) throws java.io.IOException {
        try (java.util.stream.Stream<Path> l = Files.list(work)) {
            return l.filter(f -> f.getFileName().toString().startsWith("dmwc-" + pid + "-replay-") && Files.exists(f.resolve("cache.img")))
                    .findFirst().orElse(null);
        }
    }

    /** trace convert writes OUT aside as OUT.part: a SIGTERM part way removes that file and leaves no OUT. */
    @Test
    void aStoppedTraceConvertLeavesNoPartFile() throws Exception {
        Path trace = dir.resolve("big.iolog");
        try (java.io.BufferedWriter w = Files.newBufferedWriter(trace)) {
            w.write("fio version 3 iolog\n0 f add\n0 f open\n");
            for (int i = 0; i < 2_000_000; i++) { // seconds of converting, where the stop below comes in milliseconds
                w.write(i + " f write " + (long) (i % 65_536) * 4096 + " 4096\n");
            }
            w.write("2000000 f close\n");
        }
        Path log = dir.resolve("out.iolog");
        Path part = dir.resolve("out.iolog.part");
        Path out = dir.resolve("out.txt");
        Process p = child(out, Main.class.getName(), "trace", "convert", trace.toString(), log.toString());
        try {
            long deadline = System.currentTimeMillis() + 60_000;
            while (!Files.exists(part) && p.isAlive() && System.currentTimeMillis() < deadline) {
                Thread.sleep(2);
            }
            assertTrue(Files.exists(part) && p.isAlive(), "the conversion was not caught writing: " + Files.readString(out));
            p.toHandle().destroy(); // SIGTERM
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), Files.readString(out));
            assertEquals(143, p.exitValue(), "stopped part way: " + Files.readString(out));
            assertFalse(Files.exists(part), "the half-written log was left behind");
            assertFalse(Files.exists(log), "no log was finished");
        } finally {
            p.destroyForcibly();
        }
    }
}
