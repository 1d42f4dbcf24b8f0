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
        System.out.println("replayed " + code);
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
            while (!Files.readString(out).contains("replayed ") && System.currentTimeMillis() < deadline && p.isAlive()) {
                Thread.sleep(20);
            }
            assertTrue(Files.readString(out).contains("replayed 0"), Files.readString(out));
            p.toHandle().destroy(); // SIGTERM
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the replay's handler outlived it and swallowed the SIGTERM: " + Files.readString(out));
            assertEquals(143, p.exitValue(), Files.readString(out));
        } finally {
            p.destroyForcibly();
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
