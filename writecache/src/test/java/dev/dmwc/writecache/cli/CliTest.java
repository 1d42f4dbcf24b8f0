package dev.dmwc.writecache.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {}

    private Run run(String... args) {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        try {
            picocli.CommandLine cl = Main.commandLine();
            cl.setErr(new java.io.PrintWriter(err, true));
            int code = cl.execute(args);
            return new Run(code, out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
        }
    }

    private Path kernelImage(String scenario, String image) throws Exception {
        Path p = dir.resolve(scenario + "-" + image);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(
                Path.of("..", "test-data", "kernel", scenario, image + ".gz")))) {
            Files.write(p, in.readAllBytes());
        }
        return p;
    }

    @Test
    void dumpShowsTheKernelsCommittedEntries() throws Exception {
        Run r = run("dump", kernelImage("ssd-recovery", "cache.img").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("n_blocks 254 seq_count"), r.out());
        assertTrue(r.out().contains("entries: 5 committed, 0 uncommitted, 249 free"), r.out());
        Run j = run("dump", "--json", kernelImage("ssd-recovery", "cache.img").toString());
        assertTrue(j.out().startsWith("{\"path\":") && j.out().contains("\"committed\":5"), j.out());
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
        assertEquals(2, run("frobnicate").code());
    }

    @Test
    void infoNamesThePersistenceAndProtectionChoices() {
        Run r = run("info", "--json");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("\"persistence\":") && r.out().contains("\"pku\":"), r.out());
    }
}
