package dev.dmwc.writecache.script;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmwc.daxlib.FaultMode;
import dev.dmwc.daxlib.ProtectionKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Images made by dmwc load in the real kernel with the same data (Maven profile {@code kernel}:
 * {@code mvn -B verify -Pkernel}; needs root once for the oracle set-up). For each script in
 * test-data/verify: dmwc runs it and leaves origin.img and cache.img; the oracle's
 * verify-image.sh boots Linux 6.1 on copies of them (recovery), reads the whole target, prints the
 * status, writes back and dumps the origin; it must report no kernel error. dmwc then runs the
 * very script the oracle ran on the same images, and the two transcripts must be identical.
 */
class KernelImageKernelIT {
    static final Path REPO = Path.of("").toAbsolutePath().getParent();
    static Path oracle;

    @BeforeAll
    static void setUpOracle() throws IOException, InterruptedException {
        oracle = Path.of("target", "oracle").toAbsolutePath();
        if (Files.exists(oracle.resolve("build/vmlinuz")) && Files.exists(oracle.resolve("build/initramfs.cpio.gz"))) {
            return;
        }
        Path src = REPO.resolve("test-data/oracle");
        try (Stream<Path> files = Files.walk(src)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path to = oracle.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        Process p = new ProcessBuilder("bash", "setup.sh").directory(oracle.toFile()).inheritIO().start();
        if (!p.waitFor(30, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("oracle setup.sh did not finish in 30 minutes");
        }
        assertEquals(0, p.exitValue(), "oracle setup.sh failed (it needs root for apt-get and the kernel download)");
    }

    static Stream<Arguments> scenarios() {
        return Stream.of(
                Arguments.of("ssd-recovery", "s 4096 2 autocommit_time 3600000"),
                Arguments.of("pmem-recovery", "p 4096 2 autocommit_time 3600000"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void theKernelLoadsDmwcImagesAndReadsWhatDmwcReads(String name, String tableArgs) throws Exception {
        Path work = Path.of("target", "kernel-it", name).toAbsolutePath();
        Path made = work.resolve("dmwc-made");
        Path kernel = work.resolve("kernel");
        Path again = work.resolve("dmwc-verify");
        new ScriptRunner(WcScript.parse(REPO.resolve("test-data/verify/" + name + ".wcs"), null), made,
                ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT).run();

        Process p = new ProcessBuilder("bash", oracle.resolve("verify-image.sh").toString(),
                made.resolve("origin.img").toString(), made.resolve("cache.img").toString(), tableArgs,
                kernel.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), "verify-image.sh reported a kernel error or failed:\n" + out);

        ScriptRunner r = new ScriptRunner(WcScript.parse(kernel.resolve("script.wcs"), null), again,
                ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT)
                .withImages(made.resolve("origin.img"), made.resolve("cache.img"));
        r.run();
        List<String> kernelTranscript = Files.readAllLines(kernel.resolve("transcript.txt"));
        assertEquals(String.join("\n", kernelTranscript), String.join("\n", r.transcript()),
                "the kernel's transcript (left) and dmwc's on the same images (right)");
    }
}
