package dev.dmwc.writecache.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.dmwc.daxlib.FaultMode;
import dev.dmwc.daxlib.ProtectionKeys;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every scenario the real kernel ran (test-data/kernel, copied from shared/kernel) must give the
 * identical transcript and byte-identical origin and cache images. pmem scenarios run with every
 * protection backend available here: the result may not depend on which mapping the target uses.
 */
class KernelEquivalenceTest {
    static final Path KERNEL = Path.of("..", "test-data", "kernel");

    static Stream<Arguments> scenarios() throws IOException {
        List<Path> dirs;
        try (Stream<Path> s = Files.list(KERNEL)) {
            dirs = s.filter(p -> Files.isRegularFile(p.resolve("script.wcs"))).sorted().toList();
        }
        assertTrue(dirs.size() >= 39, "kernel scenarios missing from " + KERNEL.toAbsolutePath());
        return dirs.stream().flatMap(d -> {
            String n = d.getFileName().toString();
            if (isPmem(d)) {
                return Stream.of(Arguments.of(n, ProtectionKeys.Backend.SOFTWARE),
                        Arguments.of(n, ProtectionKeys.Backend.NONE), Arguments.of(n, ProtectionKeys.Backend.MPROTECT));
            }
            return Stream.of(Arguments.of(n, ProtectionKeys.Backend.NONE));
        });
    }

    /** A pmem scenario declares a {@code pmem} device. */
    static boolean isPmem(Path dir) {
        try {
            return Files.readAllLines(dir.resolve("script.wcs")).stream().anyMatch(l -> l.startsWith("pmem "));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "{0} ({1})")
    @MethodSource("scenarios")
    void scenarioMatchesTheKernel(String name, ProtectionKeys.Backend backend, @TempDir Path out) throws Exception {
        Path dir = KERNEL.resolve(name);
        WcScript script = WcScript.parse(dir.resolve("script.wcs"), null);
        new ScriptRunner(script, out, backend, FaultMode.STRICT).run();
        assertEquals(Files.readString(dir.resolve("transcript.txt")), Files.readString(out.resolve("transcript.txt")),
                "transcript of " + name);
        assertSameImage(dir.resolve("origin.img.gz"), out.resolve("origin.img"), name + " origin");
        assertSameImage(dir.resolve("cache.img.gz"), out.resolve("cache.img"), name + " cache");
    }

    static void assertSameImage(Path expectedGz, Path actual, String what) throws IOException {
        byte[] want;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(expectedGz))) {
            want = in.readAllBytes();
        }
        byte[] have = Files.readAllBytes(actual);
        assertEquals(want.length, have.length, what + ": image size");
        for (int i = 0; i < want.length; i++) {
            if (want[i] != have[i]) {
                fail(String.format("%s: first difference at byte %d (sector %d, offset %d): kernel 0x%02x, dmwc 0x%02x",
                        what, i, i / 512, i % 512, want[i] & 0xff, have[i] & 0xff));
            }
        }
    }

    /** "KIND@START+COUNT …" of a read line, as one kind per sector. */
    static String[] sectors(String readLine, int n) {
        String[] kinds = new String[n];
        for (String run : readLine.substring(readLine.indexOf(':') + 2).split(" ")) {
            String kind = run.substring(0, run.indexOf('@'));
            int start = Integer.parseInt(run.substring(run.indexOf('@') + 1, run.indexOf('+')));
            int count = Integer.parseInt(run.substring(run.indexOf('+') + 1));
            java.util.Arrays.fill(kinds, start, start + count, kind);
        }
        return kinds;
    }

    /**
     * test-data/kernel-bugs/pmem-read-hits-then-misses: reads over cached blocks that alternate
     * with uncached ones, in pmem mode. Linux 6.1 loses a stretch at the end of such a read (of
     * each piece the block layer split it into): those sectors read as zeros although the blocks
     * are cached, and their hits are not counted. dmwc returns every block. Apart from those
     * sectors and read_hits, the two transcripts must be identical.
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"whole-target", "sizes", "minimal"})
    void aReadOfHitsAndMissesInOneBioReturnsEveryBlock(String sub, @TempDir Path out) throws Exception {
        Path dir = Path.of("..", "test-data", "kernel-bugs", "pmem-read-hits-then-misses");
        dir = sub.equals("whole-target") ? dir : dir.resolve(sub);
        new ScriptRunner(WcScript.parse(dir.resolve("script.wcs"), null), out, ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT).run();
        List<String> dmwc = Files.readAllLines(out.resolve("transcript.txt"));
        assertEquals(Files.readAllLines(dir.resolve("dmwc-transcript.txt")), dmwc);
        List<String> kernel = Files.readAllLines(dir.resolve("transcript.txt"));
        assertEquals(kernel.size(), dmwc.size());
        int lossyReads = 0;
        for (int i = 0; i < kernel.size(); i++) {
            String k = kernel.get(i);
            String d = dmwc.get(i);
            if (k.startsWith("read ")) {
                String[] head = k.substring(0, k.indexOf(':')).split(" ");
                int first = Integer.parseInt(head[1]);
                int n = Integer.parseInt(head[2]);
                String[] ks = sectors(k, first + n);
                String[] ds = sectors(d, first + n);
                int lostFrom = -1;
                for (int sct = first; sct < first + n; sct++) {
                    if (ds[sct].startsWith("P") && !sub.equals("minimal")) {
                        assertTrue(sct % 16 < 8, "dmwc: data only where it was written, sector " + sct);
                    }
                    if (!ks[sct].equals(ds[sct])) {
                        assertEquals("zero", ks[sct], "the kernel's lost sectors read as zeros, sector " + sct);
                        if (lostFrom < 0) {
                            lostFrom = sct;
                        }
                    }
                }
                lossyReads += lostFrom >= 0 ? 1 : 0;
            } else if (k.startsWith("status ")) {
                String[] kf = k.split(" ");
                String[] df = d.split(" ");
                assertTrue(Long.parseLong(kf[6]) < Long.parseLong(df[6]), "the kernel counts fewer read hits: " + k + " / " + d);
                kf[6] = "*";
                df[6] = "*";
                assertEquals(String.join(" ", kf), String.join(" ", df));
            } else {
                assertEquals(k, d);
            }
        }
        assertTrue(lossyReads > 0, "the kernel transcript shows the loss");
    }
}
