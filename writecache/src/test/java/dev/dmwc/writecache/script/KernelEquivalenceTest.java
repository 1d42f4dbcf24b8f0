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
}
