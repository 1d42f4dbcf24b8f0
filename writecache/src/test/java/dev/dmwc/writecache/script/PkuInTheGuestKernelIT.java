package dev.dmwc.writecache.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@code pku} protection backend on a CPU that has pku. This machine's CPU has none, but the
 * oracle's VM (QEMU TCG, {@code -cpu max}) does, with Linux 6.1 enabling it: dmwc runs there, on
 * a Java runtime linked here ({@code jlink}) with the host's C libraries, booted once:
 * <ul>
 * <li>{@code dmwc info} finds pku and makes it the default backend;</li>
 * <li>pmem scenarios the real kernel ran, with {@code --protection pku}, leave the kernel's
 * transcripts and images, byte for byte;</li>
 * <li>{@link PkuProbe}: a store inside the window reaches the file; a store after the window closed,
 * and a store from another thread while this one holds the window open, fault (SIGSEGV with
 * SEGV_PKUERR ends the JVM) and leave the file as it was; with the relaxed fault mode, such a store
 * is granted and counted.</li>
 * </ul>
 * Part of {@code mvn -B verify -Pkernel}.
 */
class PkuInTheGuestKernelIT {
    private static final List<String> SCENARIOS = List.of("pmem-recovery", "pmem-crash", "pmem-writeback");
    private static final List<String> PROBES = List.of("window", "closed", "other-thread", "relaxed");
    private static Path out;

    @BeforeAll
    static void runInTheGuest() throws Exception {
        KernelImageKernelIT.setUpOracle();
        Path work = Path.of("target", "pku-guest").toAbsolutePath();
        deleteTree(work);
        Path root = Files.createDirectories(work.resolve("root"));
        Path javaHome = Path.of(System.getProperty("java.home"));
        Path jre = root.resolve("opt/jre");
        Files.createDirectories(jre.getParent());
        run(work, 600, javaHome.resolve("bin/jlink").toString(), "--add-modules",
                "java.base,java.logging,java.management,java.naming,jdk.management,jdk.unsupported", "--strip-debug",
                "--no-header-files", "--no-man-pages", "--output", jre.toString());
        copyLibraries(work, jre, root);
        Files.copy(Path.of("target", "dmwc.jar"), root.resolve("opt/dmwc.jar"));
        probeJar(root.resolve("opt/probe.jar"));
        Path tar = work.resolve("java.tar");
        run(work, 300, "tar", "--format=ustar", "-cf", tar.toString(), "-C", root.toString(), ".");
        List<String> cmd = new ArrayList<>(List.of("bash", KernelImageKernelIT.oracle.resolve("run.sh").toString(), "--accel", "tcg",
                "--quiet", "--mem", "1G", "--timeout", "1200", "--add", tar.toString()));
        for (String s : SCENARIOS) {
            Path w = work.resolve(s + ".wcs");
            Files.copy(KernelImageKernelIT.REPO.resolve("test-data/kernel").resolve(s).resolve("script.wcs"), w);
            cmd.addAll(List.of("--add", w.toString()));
        }
        String flags = String.join(" ", java.util.Arrays.stream(System.getProperty("dmwc.test.jvmFlags", "").split(" "))
                .filter(f -> !f.contains("jdk.compiler")).toList()); // the linked runtime has no compiler module
        Path guest = Files.writeString(work.resolve("guest.sh"), String.join("\n",
                "#!/bin/sh",
                "tar xf /scenario/java.tar -C / || exit 3",
                "J='/opt/jre/bin/java -XX:TieredStopAtLevel=1 -XX:-CreateCoredumpOnCrash'",
                "$J -jar /opt/dmwc.jar info --json > /results/info.json 2> /results/info.err",
                "for s in " + String.join(" ", SCENARIOS) + "; do",
                "  $J -jar /opt/dmwc.jar script --protection pku /scenario/$s.wcs /results/$s > /results/$s.txt 2>&1",
                "  echo $? > /results/$s.rc",
                "  gzip /results/$s/*.img", // the results disk is 64 MiB
                "done",
                "dd if=/dev/zero of=/tmp/dax.img bs=4096 count=16 2> /dev/null",
                "for c in " + String.join(" ", PROBES) + "; do",
                "  $J " + flags + " -XX:ErrorFile=/results/hs_err-$c.log -cp /opt/dmwc.jar:/opt/probe.jar "
                        + PkuProbe.class.getName() + " /tmp/dax.img $c > /results/$c.txt 2>&1",
                "  echo $? > /results/$c.rc",
                "done",
                "cp /tmp/dax.img /results/dax.img",
                ""));
        out = work.resolve("out");
        cmd.addAll(List.of("--out", out.toString(), "--log", work.resolve("console.log").toString(), guest.toString(), "-", "-"));
        int rc = run(work, 1500, cmd.toArray(String[]::new));
        assertEquals(0, rc, "the VM's run: " + Files.readString(work.resolve("run.txt")));
    }

    @Test
    void dmwcInfoFindsPkuAndMakesItTheDefault() throws IOException {
        String info = Files.readString(out.resolve("info.json")).replaceAll("\\s+", "");
        assertTrue(info.contains("\"pku\":true") && info.contains("\"ospke\":true"), "the guest CPU's features: " + info);
        assertTrue(info.contains("\"protection_default\":\"pku\"") && info.contains("\"pku\":{\"available\":true"),
                info + Files.readString(out.resolve("info.err")));
    }

    @Test
    void kernelScenariosUnderPkuLeaveTheKernelsResults() throws Exception {
        for (String s : SCENARIOS) {
            assertEquals("0", Files.readString(out.resolve(s + ".rc")).trim(), s + ": " + Files.readString(out.resolve(s + ".txt")));
            Process p = new ProcessBuilder("bash", KernelImageKernelIT.oracle.resolve("compare.sh").toString(),
                    KernelImageKernelIT.REPO.resolve("test-data/kernel").resolve(s).toString(), out.resolve(s).toString())
                    .redirectErrorStream(true).start();
            String said = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), s + " under pku differs from the kernel:\n" + said);
        }
    }

    @Test
    void aStoreInsideTheWindowReachesTheFile() throws IOException {
        String said = Files.readString(out.resolve("window.txt"));
        assertEquals("0", Files.readString(out.resolve("window.rc")).trim(), said);
        assertTrue(said.contains("backend pku") && said.contains("map_protected true"), said);
        assertTrue(said.contains("window store and load: " + Long.toHexString(PkuProbe.WINDOW_VALUE)), said);
    }

    @Test
    void strayStoresFaultAndLeaveTheFileAsItWas() throws IOException {
        for (String c : List.of("closed", "other-thread")) {
            String said = Files.readString(out.resolve(c + ".txt"));
            assertFalse(said.contains("STRAY STORE DONE"), c + ": the store got through: " + said);
            assertTrue(said.contains("storing"), c + ": the probe did not get to its store: " + said);
            assertFalse(Files.readString(out.resolve(c + ".rc")).trim().equals("0"), c + ": the JVM lived on: " + said);
            String crash = Files.readString(out.resolve("hs_err-" + c + ".log"));
            assertTrue(crash.contains("SIGSEGV") && (crash.contains("SEGV_PKUERR") || crash.contains("si_code: 4 ")),
                    c + ": not a protection-key fault: " + crash.lines().filter(l -> l.contains("siginfo")).toList());
        }
        ByteBuffer dax = ByteBuffer.wrap(Files.readAllBytes(out.resolve("dax.img"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(Long.toHexString(PkuProbe.WINDOW_VALUE), Long.toHexString(dax.getLong(4096)),
                "what the window stored is there, and no stray store landed");
    }

    @Test
    void theRelaxedModeGrantsAStrayStoreAndCountsIt() throws IOException {
        String said = Files.readString(out.resolve("relaxed.txt"));
        assertEquals("0", Files.readString(out.resolve("relaxed.rc")).trim(), said);
        assertTrue(said.contains("backend pku, relaxed") && said.contains("relaxed stray store done, strays counted 1"), said);
        assertTrue(said.contains("Page map protection being disabled"), "warned once: " + said);
        ByteBuffer dax = ByteBuffer.wrap(Files.readAllBytes(out.resolve("dax.img"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(Long.toHexString(PkuProbe.STRAY_VALUE), Long.toHexString(dax.getLong((int) PkuProbe.RELAXED_OFFSET)));
    }

    /** The C libraries the runtime needs, from this machine (the guest has a static busybox only). */
    private static void copyLibraries(Path work, Path jre, Path root) throws Exception {
        TreeSet<String> libs = new TreeSet<>();
        List<Path> objects = new ArrayList<>(List.of(jre.resolve("bin/java")));
        try (Stream<Path> s = Files.walk(jre.resolve("lib"))) {
            s.filter(p -> p.toString().endsWith(".so")).forEach(objects::add);
        }
        for (Path o : objects) {
            run(work, 60, "ldd", o.toString());
            for (String line : Files.readAllLines(work.resolve("run.txt"))) {
                String t = line.trim();
                int arrow = t.indexOf("=> /");
                String lib = arrow >= 0 ? t.substring(arrow + 3, t.indexOf(' ', arrow + 3)) : t.startsWith("/") ? t.substring(0, t.indexOf(' ')) : null;
                if (lib != null && !lib.startsWith(jre.toString())) {
                    libs.add(lib);
                }
            }
        }
        for (String lib : libs) {
            Path to = root.resolve(lib.substring(1));
            Files.createDirectories(to.getParent());
            Files.copy(Path.of(lib), to); // follows the link: the file itself, under the name the loader asks for
        }
    }

    /** The probe's class, as a jar beside dmwc.jar. */
    private static void probeJar(Path jar) throws IOException {
        String entry = PkuProbe.class.getName().replace('.', '/') + ".class";
        try (java.util.jar.JarOutputStream j = new java.util.jar.JarOutputStream(Files.newOutputStream(jar))) {
            j.putNextEntry(new java.util.jar.JarEntry(entry));
            try (java.io.InputStream in = PkuProbe.class.getClassLoader().getResourceAsStream(entry)) {
                in.transferTo(j);
            }
            j.closeEntry();
        }
    }

    /** Runs a command in {@code work}, its output in work/run.txt; its exit code. */
    private static int run(Path work, int seconds, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(work.resolve("run.txt").toFile()).start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + ": did not end in " + seconds + " s");
        }
        if (!cmd[0].equals("bash") && p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + ": exit " + p.exitValue() + "\n" + Files.readString(work.resolve("run.txt")));
        }
        return p.exitValue();
    }

    private static void deleteTree(Path d) throws IOException {
        if (!Files.exists(d)) {
            return;
        }
        try (Stream<Path> s = Files.walk(d)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
