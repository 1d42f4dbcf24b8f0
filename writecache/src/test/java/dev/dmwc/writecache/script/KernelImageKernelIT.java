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
    /** The Debian kernel package test-data/kernel and the public scenarios were run on (README-kernel.md). */
    static final String STORED_RESULTS_KERNEL = "linux-image-6.1.0-56-amd64";
    static Path oracle;

    @BeforeAll
    static synchronized void setUpOracle() throws IOException, InterruptedException { // GuestHardwareKernelIT runs beside
        oracle = Path.of("target", "oracle").toAbsolutePath();
        if (Files.exists(oracle.resolve("build/vmlinuz")) && Files.exists(oracle.resolve("build/initramfs.cpio.gz"))) {
            sayKernel();
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
        // the kernel package the stored results were made with, unless the caller names one; left
        // to the metapackage's current one only when the archive no longer has it (said loudly)
        // an empty ORACLE_KPKG counts as unset, as setup.sh's ${ORACLE_KPKG:-…} reads it
        String named = System.getenv("ORACLE_KPKG");
        String pinned = named == null || named.isBlank() ? STORED_RESULTS_KERNEL : named.strip();
        if (runSetup(pinned) != 0) {
            System.err.println("*** oracle: setup.sh with the kernel package " + pinned + " failed; trying again with the package "
                    + "behind linux-image-amd64. The stored results were made with " + STORED_RESULTS_KERNEL
                    + ": a difference from them may be the kernel's, not dmwc's ***");
            assertEquals(0, runSetup(null), "oracle setup.sh failed (it needs root for apt-get and the kernel download)");
        }
        sayKernel();
    }

    private static void sayKernel() throws IOException {
        System.err.println("oracle: kernel " + Files.readString(oracle.resolve("build/kernel-version")).strip() + " (stored results: "
                + STORED_RESULTS_KERNEL + ")");
    }

    /** Runs the oracle's setup.sh, pinned to {@code kernelPackage} unless it is null; its exit status. */
    private static int runSetup(String kernelPackage) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", "setup.sh").directory(oracle.toFile()).inheritIO();
        if (kernelPackage != null) {
            pb.environment().put("ORACLE_KPKG", kernelPackage);
        } else {
            pb.environment().remove("ORACLE_KPKG");
        }
        Process p = pb.start();
        if (!p.waitFor(30, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("oracle setup.sh did not finish in 30 minutes");
        }
        return p.exitValue();
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

        kernelAgrees(made, tableArgs, kernel, again, false);
    }

    /**
     * The oracle boots Linux 6.1 on copies of {@code made}'s images and must report no error; dmwc
     * then runs the very script the kernel ran on the same images: identical transcripts.
     */
    static void kernelAgrees(Path made, String tableArgs, Path kernel, Path again, boolean manyBlocks) throws Exception {
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
        List<String> ours = r.transcript();
        if (tableArgs.startsWith("p") && manyBlocks) {
            // Linux 6.1 loses blocks of one big read over hits and misses in pmem mode
            // (test-data/kernel-bugs/pmem-read-hits-then-misses): leave out the whole-target read
            // and read_hits; the status otherwise and the origin after writeback must be identical
            kernelTranscript = withoutBigRead(kernelTranscript);
            ours = withoutBigRead(ours);
        }
        kernelTranscript = withWritebackInFlightFolded(kernelTranscript);
        ours = withWritebackInFlightFolded(ours);
        assertEquals(String.join("\n", kernelTranscript), String.join("\n", ours),
                "the kernel's transcript (left) and dmwc's on the same images (right)");
    }

    /**
     * A status taken before the script's {@code settle}: when the recovered cache is above the high
     * watermark, the kernel's writeback starts at resume and may still be in flight then (a CI run
     * saw free 1781 + writeback 203 in the kernel where dmwc, whose writeback runs in virtual time,
     * had free 1984 + 0). Such a status is compared on free + writeback (the blocks not cached
     * any more or on their way out); every status after {@code settle} is compared field by field.
     */
    static List<String> withWritebackInFlightFolded(List<String> t) {
        List<String> out = new java.util.ArrayList<>();
        boolean settled = false;
        for (String l : t) {
            if (l.equals("> settle")) {
                settled = true;
            }
            if (!settled && l.startsWith("status ")) {
                String[] f = l.split(" ");
                f[3] = "free+wb=" + (Long.parseLong(f[3]) + Long.parseLong(f[4])); // (status, error, blocks, free, wb, ...)
                f[4] = "*";
                l = String.join(" ", f);
            }
            out.add(l);
        }
        return out;
    }

    static List<String> withoutBigRead(List<String> t) {
        List<String> out = new java.util.ArrayList<>();
        for (String l : t) {
            if (l.startsWith("read 0 ")) {
                continue;
            }
            if (l.startsWith("status ")) {
                String[] f = l.split(" ");
                f[6] = "*"; // read_hits (status, error, blocks, free, wb, reads, read_hits)
                l = String.join(" ", f);
            }
            out.add(l);
        }
        return out;
    }

    /**
     * Images the threaded engine (the one {@code dmwc serve} runs) left when the power went while
     * four threads wrote, discarded and flushed and writeback ran: the kernel recovers them without
     * an error and reads what dmwc reads.
     */
    @ParameterizedTest(name = "mode {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"s", "p"})
    void theKernelLoadsImagesTheThreadedEngineLeftAtAPowerCut(String mode) throws Exception {
        Path work = Path.of("target", "kernel-it", "threaded-" + mode).toAbsolutePath();
        Path made = work.resolve("dmwc-made");
        Files.createDirectories(made);
        Path o = made.resolve("origin.img");
        Path c = made.resolve("cache.img");
        Files.deleteIfExists(o);
        Files.deleteIfExists(c);
        long cacheBytes = mode.equals("p") ? 14L << 20 : 2L << 20; // pmem: the oracle's NVDIMM size rule
        dev.dmwc.writecache.block.MappedBlockDevice od = dev.dmwc.writecache.block.MappedBlockDevice.create(o, 8L << 20, true);
        dev.dmwc.daxlib.DaxDevice dax = null;
        dev.dmwc.writecache.block.MappedBlockDevice sd = null;
        Object cd;
        if (mode.equals("p")) {
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(c.toFile(), "rw")) {
                f.setLength(cacheBytes);
            }
            dax = dev.dmwc.daxlib.DaxDevice.open(c, new dev.dmwc.daxlib.DaxDevice.Options().backend(ProtectionKeys.Backend.SOFTWARE));
            cd = dax;
        } else {
            sd = dev.dmwc.writecache.block.MappedBlockDevice.create(c, cacheBytes, true);
            cd = sd;
        }
        dev.dmwc.writecache.target.WritecacheTarget t = dev.dmwc.writecache.target.WritecacheTarget.create(
                List.of(mode, "o", "c", "4096", "0"), java.util.Map.of("o", od, "c", cd),
                new dev.dmwc.writecache.engine.ThreadedScheduler(Throwable::printStackTrace), null, m -> { });
        long deadline = System.nanoTime() + 1_500_000_000L;
        List<Thread> ts = new java.util.ArrayList<>();
        for (int k = 0; k < 4; k++) {
            int me = k;
            Thread th = new Thread(() -> {
                java.util.SplittableRandom r = new java.util.SplittableRandom(me);
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4096);
                while (System.nanoTime() < deadline) {
                    long block = r.nextLong(2048);
                    int dice = r.nextInt(100);
                    b.clear();
                    b.putLong(0, block).putLong(8, r.nextLong());
                    if (dice < 80) {
                        t.submit(dev.dmwc.writecache.block.Bio.Op.WRITE, dice < 8 ? dev.dmwc.writecache.block.Bio.REQ_FUA : 0,
                                block * 8, 4096, b);
                    } else if (dice < 90) {
                        t.submit(dev.dmwc.writecache.block.Bio.Op.READ, 0, block * 8, 4096, b);
                    } else if (dice < 95) {
                        t.submit(dev.dmwc.writecache.block.Bio.Op.DISCARD, 0, block * 8, 4096, null);
                    } else {
                        t.flush();
                    }
                }
            });
            th.start();
            ts.add(th);
        }
        for (Thread th : ts) {
            th.join();
        }
        assertEquals(0, t.engine().statusFields()[0], "no error before the cut");
        t.close(); // the power cut: no suspend, no last commit
        if (dax != null) {
            dax.close();
        } else {
            sd.flush();
            sd.close();
        }
        od.flush();
        od.close();
        kernelAgrees(made, mode + " 4096 0", work.resolve("kernel"), work.resolve("dmwc-verify"), true);
    }
}
