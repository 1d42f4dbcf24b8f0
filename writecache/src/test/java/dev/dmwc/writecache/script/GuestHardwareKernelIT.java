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
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * dmwc on hardware this machine lacks, in the oracle's VM (QEMU TCG, {@code -cpu max}, Linux 6.1),
 * booted once: its CPU has pku, and its emulated NVDIMM, made an fsdax namespace with an ext4 mounted
 * {@code -o dax} on it, is real DAX. dmwc runs there on a Java runtime linked here ({@code jlink}) with
 * this machine's C libraries:
 * <ul>
 * <li>{@code dmwc info} finds pku, makes it the default protection backend, and names the DAX mount;</li>
 * <li>pmem scenarios the real kernel ran, with {@code --protection pku} and their cache files on the
 * DAX file system (mapped {@code MAP_SYNC}, and through Chronicle Bytes for the permanent mapping),
 * leave the kernel's transcripts and images, byte for byte;</li>
 * <li>{@link GuestProbe}: a store inside the window reaches the file; a store after the window closed,
 * and a store from another thread while this one holds the window open, fault (SIGSEGV with
 * SEGV_PKUERR ends the JVM) and leave the file as it was; with the relaxed fault mode such a store is
 * granted and counted. A file off the DAX file system is not mapped {@code MAP_SYNC}.</li>
 * <li>a replay with eight submitting threads, under pku, its devices on the DAX file system, verifies;</li>
 * <li>bench runs there with its absorb baseline on the DAX file system ({@code --baseline-dir});</li>
 * <li>a store made durable just before a power cut (sysrq b) is there after the next boot's mount;</li>
 * <li>on a second NVDIMM made a device-dax ({@code /dev/dax0.0}, no file system), a pmem cache under pku:
 * a verified replay, a second one resuming the first's state, dump and check of the device.</li>
 * </ul>
 * Part of {@code mvn -B verify -Pkernel}; seven to nine minutes (four boots under TCG). The profile
 * runs it beside the other kernel ITs, which run one after another (writecache/pom.xml): its VM
 * and theirs each keep one CPU busy, and nothing here shares a file with them.
 */
@Execution(ExecutionMode.CONCURRENT)
class GuestHardwareKernelIT {
    private static final List<String> SCENARIOS = List.of("pmem-recovery", "pmem-crash", "pmem-writeback");
    private static final List<String> PROBES = List.of("window", "closed", "other-thread", "relaxed");
    /** What an ext4 mount needs beyond the oracle's initramfs, in load order. */
    private static final List<String> MODULES = List.of("lib/crc16", "fs/mbcache", "fs/jbd2/jbd2", "crypto/crc32c_generic",
            "lib/libcrc32c", "fs/ext4/ext4");
    /** The guest's shell line that loads {@link #MODULES} (put in /mods by the set-up). */
    private static final String INSMOD = "for m in " + String.join(" ", MODULES.stream().map(m -> "/mods/" + Path.of(m).getFileName() + ".ko")
            .toList()) + "; do insmod $m || exit 4; done";
    /**
     * The VM's limit for each boot after the first, seconds. The device-dax boot takes about 3 minutes of
     * TCG here; on a slower, busier CI machine it once took more than the 300 s this was, and run.sh
     * killed it (rc 124). A limit only catches a hang, so it is generous.
     */
    private static final int BOOT_TIMEOUT_SECONDS = 900;
    private static Path out;

    @BeforeAll
    static void runInTheGuest() throws Exception {
        KernelImageKernelIT.setUpOracle();
        Path work = Path.of("target", "guest-hardware").toAbsolutePath();
        deleteTree(work);
        Path root = Files.createDirectories(work.resolve("root"));
        Path javaHome = Path.of(System.getProperty("java.home"));
        assertTrue(Files.isExecutable(javaHome.resolve("bin/jlink")) && Files.isDirectory(javaHome.resolve("jmods")),
                "this test links a Java runtime for the VM: it needs a JDK with jlink and its jmods (openjdk-17-jdk-headless), "
                        + "not " + javaHome);
        assertTrue(Files.isExecutable(Path.of("/usr/sbin/mke2fs")), "this test formats the VM's NVDIMM with mke2fs (e2fsprogs)");
        Path jre = root.resolve("opt/jre");
        Files.createDirectories(jre.getParent());
        run(work, 600, javaHome.resolve("bin/jlink").toString(), "--add-modules",
                "java.base,java.logging,java.management,java.naming,jdk.management,jdk.unsupported", "--strip-debug",
                "--no-header-files", "--no-man-pages", "--output", jre.toString());
        List<Path> programs = new ArrayList<>(List.of(jre.resolve("bin/java"), Path.of("/usr/sbin/mke2fs")));
        try (Stream<Path> s = Files.walk(jre.resolve("lib"))) {
            s.filter(p -> p.toString().endsWith(".so")).forEach(programs::add);
        }
        copyLibraries(work, programs, jre, root);
        Files.createDirectories(root.resolve("sbin"));
        Files.copy(Path.of("/usr/sbin/mke2fs"), root.resolve("sbin/mkfs.ext4")); // mke2fs takes its file system from its name
        Path modules;
        try (Stream<Path> s = Files.list(KernelImageKernelIT.oracle.resolve("build/kernel-root/lib/modules"))) {
            modules = s.findFirst().orElseThrow().resolve("kernel");
        }
        Files.createDirectories(root.resolve("mods"));
        for (String m : MODULES) {
            Files.copy(modules.resolve(m + ".ko"), root.resolve("mods").resolve(Path.of(m).getFileName() + ".ko"));
        }
        Files.copy(Path.of("target", "dmwc.jar"), root.resolve("opt/dmwc.jar"));
        probeJar(root.resolve("opt/probe.jar"));
        Path tar = work.resolve("guest.tar");
        run(work, 300, "tar", "--format=ustar", "-cf", tar.toString(), "-C", root.toString(), ".");
        List<String> cmd = new ArrayList<>(List.of("bash", KernelImageKernelIT.oracle.resolve("run.sh").toString(), "--accel", "tcg",
                "--quiet", "--mem", "1G", "--timeout", "1200", "--pmem", work.resolve("pmem.img").toString(), "--pmem-size", "1G",
                "--add", tar.toString()));
        Path trace = KernelImageKernelIT.REPO.resolve("test-data/traces/raw-mixed.v3.iolog.gz");
        cmd.addAll(List.of("--add", trace.toString()));
        for (String s : SCENARIOS) {
            Path w = work.resolve(s + ".wcs");
            Files.copy(KernelImageKernelIT.REPO.resolve("test-data/kernel").resolve(s).resolve("script.wcs"), w);
            cmd.addAll(List.of("--add", w.toString()));
        }
        String flags = String.join(" ", java.util.Arrays.stream(System.getProperty("dmwc.test.jvmFlags", "").split(" "))
                .filter(f -> !f.contains("jdk.compiler")).toList()); // the linked runtime has no compiler module
        String probe = "$J " + flags + " -XX:ErrorFile=/results/hs_err-$c.log -cp /opt/dmwc.jar:/opt/probe.jar " + GuestProbe.class.getName();
        Path guest = Files.writeString(work.resolve("guest.sh"), String.join("\n",
                "#!/bin/sh",
                "tar xf /scenario/guest.tar -C / || exit 3",
                INSMOD,
                "ndctl create-namespace -f -e namespace0.0 --mode=fsdax --map=mem > /results/ndctl.txt 2>&1 || exit 5",
                "mkfs.ext4 -q -F -b 4096 /dev/pmem0 || exit 6",
                "mkdir -p /mnt && mount -t ext4 -o dax /dev/pmem0 /mnt || exit 7",
                "grep ' /mnt ' /proc/mounts > /results/mounts.txt",
                "J='/opt/jre/bin/java -XX:TieredStopAtLevel=1 -XX:-CreateCoredumpOnCrash'",
                "$J -jar /opt/dmwc.jar info --json > /results/info.json 2> /results/info.err",
                "for s in " + String.join(" ", SCENARIOS) + "; do",
                "  $J -jar /opt/dmwc.jar script --log --protection pku /scenario/$s.wcs /mnt/$s > /results/$s.txt 2>&1",
                "  echo $? > /results/$s.rc",
                "  mkdir /results/$s && cp /mnt/$s/transcript.txt /results/$s/ || exit 8",
                "  for i in origin cache; do gzip -c /mnt/$s/$i.img > /results/$s/$i.img.gz || exit 8; done", // the results disk is 64 MiB
                "done",
                // the threaded engine (writeback, flush and autocommit threads beside eight submitters), each thread
                // opening and closing its own pku window: one touching the cache without one would end the JVM
                "$J -jar /opt/dmwc.jar replay --protection pku --queue-depth 8 --verify --limit 6000 --cache-size 64M "
                        + "--origin /mnt/r-origin.img --cache /mnt/r-cache.img /scenario/" + trace.getFileName() + " > /results/replay.txt 2>&1",
                "echo $? > /results/replay.rc",
                // bench with its cache and its absorb baseline on the DAX file system: both durable copies into pmem
                "$J -jar /opt/dmwc.jar bench -q --modes p --phases absorb --rounds 1 --scale 0.05 --protection pku --origin-size 64M "
                        + "--cache /mnt/b-cache.img --cache-size 32M --baseline-dir /mnt --json=/results/bench-dax.json "
                        + "> /results/bench-dax.txt 2>&1",
                "echo $? > /results/bench-dax.rc",
                "ls /mnt > /results/bench-dax-ls.txt",
                "dd if=/dev/zero of=/mnt/dax.img bs=4096 count=16 2> /dev/null",
                "for c in " + String.join(" ", PROBES) + "; do",
                "  " + probe + " /mnt/dax.img $c > /results/$c.txt 2>&1",
                "  echo $? > /results/$c.rc",
                "done",
                "cp /mnt/dax.img /results/dax.img",
                "dd if=/dev/zero of=/tmp/plain.img bs=4096 count=16 2> /dev/null",
                "c=plain; " + probe + " /tmp/plain.img window > /results/plain.txt 2>&1",
                ""));
        out = work.resolve("out");
        cmd.addAll(List.of("--out", out.toString(), "--log", work.resolve("console.log").toString(), guest.toString(), "-", "-"));
        int rc = run(work, 1500, cmd.toArray(String[]::new));
        assertEquals(0, rc, "the VM's run (console: " + work.resolve("console.log") + "): " + Files.readString(work.resolve("run.txt")));
        // a power cut right after a durable store into blocks the file system had only just allocated:
        // the same NVDIMM file, booted twice more, the first boot ending in sysrq b (no sync, no unmount)
        String mount = INSMOD + "; mkdir -p /mnt && mount -t ext4 -o dax /dev/pmem0 /mnt || exit 7";
        Path cut = Files.writeString(work.resolve("cut.sh"), String.join("\n",
                "#!/bin/sh",
                "tar xf /scenario/guest.tar -C / || exit 3",
                mount,
                // files with no blocks yet, their sizes committed
                "truncate -s 65536 /mnt/cut.img && truncate -s 65536 /mnt/cut-permanent.img && sync",
                "J='/opt/jre/bin/java -XX:TieredStopAtLevel=1 -XX:-CreateCoredumpOnCrash'",
                "c=cut; " + probe + " /mnt/cut.img window || exit 9",
                "c=cut-permanent; " + probe + " /mnt/cut-permanent.img permanent || exit 9",
                "echo b > /proc/sysrq-trigger", // QEMU runs with -no-reboot: the VM ends here
                "sleep 30",
                ""));
        rc = bootAgain(work, tar, cut, null, "cut-console.log");
        String cutLog = Files.readString(work.resolve("cut-console.log"));
        assertTrue(rc == 125 && cutLog.contains("window store and load: " + Long.toHexString(GuestProbe.WINDOW_VALUE))
                && cutLog.contains("permanent store and load: " + Long.toHexString(GuestProbe.WINDOW_VALUE)),
                "the store, then the power cut (rc 125: no exit status): rc " + rc + "\n" + cutLog);
        Path after = Files.writeString(work.resolve("after.sh"), String.join("\n",
                "#!/bin/sh",
                "tar xf /scenario/guest.tar -C / || exit 3",
                mount, // replays ext4's journal
                "cp /mnt/cut.img /mnt/cut-permanent.img /results/",
                ""));
        rc = bootAgain(work, tar, after, work.resolve("after"), "after-console.log");
        assertEquals(0, rc, "the boot after the power cut" + timedOut(rc) + ": " + Files.readString(work.resolve("after-console.log")));
        // a fourth boot on another NVDIMM, made a device-dax (no file system): dmwc's pmem cache on /dev/dax0.0
        String replay = "$J -jar /opt/dmwc.jar replay --protection pku --origin /tmp/o.img --cache /dev/dax0.0 /scenario/"
                + trace.getFileName();
        Path devdax = Files.writeString(work.resolve("devdax.sh"), String.join("\n",
                "#!/bin/sh",
                "tar xf /scenario/guest.tar -C / || exit 3",
                "ndctl create-namespace -f -e namespace0.0 --mode=devdax > /results/ndctl.txt 2>&1 || exit 5",
                "ls -l /dev/dax0.0 > /results/ls.txt 2>&1",
                "J='/opt/jre/bin/java -XX:TieredStopAtLevel=1 -XX:-CreateCoredumpOnCrash'",
                "$J -jar /opt/dmwc.jar info > /results/info.txt 2>&1",
                replay + " --queue-depth 8 --verify --limit 6000 > /results/verify.txt 2>&1; echo $? > /results/verify.rc",
                "$J -jar /opt/dmwc.jar dump /dev/dax0.0 > /results/dump1.txt 2>&1; echo $? > /results/dump1.rc",
                // the same device again: resumed from what the first run committed, and left with dirty blocks
                replay + " --limit 3000 > /results/again.txt 2>&1; echo $? > /results/again.rc",
                "$J -jar /opt/dmwc.jar dump /dev/dax0.0 > /results/dump2.txt 2>&1; echo $? > /results/dump2.rc",
                "$J -jar /opt/dmwc.jar check /dev/dax0.0 --origin /tmp/o.img > /results/check.txt 2>&1; echo $? > /results/check.rc",
                // serve on it (the devices of serve and bench), asked for its status, stopped by SIGTERM
                "$J -jar /opt/dmwc.jar serve --listen unix:/tmp/wc.sock --protection pku --origin /tmp/o.img --cache /dev/dax0.0 "
                        + "> /results/serve.txt 2>&1 & P=$!",
                "i=0; while [ ! -S /tmp/wc.sock.ctl ] && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done",
                "$J -jar /opt/dmwc.jar status --listen unix:/tmp/wc.sock > /results/status.txt 2>&1; echo $? > /results/status.rc",
                "kill -TERM $P; wait $P; echo $? > /results/serve.rc",
                "$J -jar /opt/dmwc.jar replay --mode s --limit 10 --origin /tmp/s.img --cache /dev/dax0.0 /scenario/"
                        + trace.getFileName() + " > /results/ssd.txt 2>&1; echo $? > /results/ssd.rc",
                // bench on it, last (it overwrites the cache): a short absorb and drain, beside their baselines
                "$J -jar /opt/dmwc.jar bench -q --modes p --phases absorb,drain --rounds 1 --scale 0.05 --protection pku"
                        + " --origin /tmp/b.img --origin-size 64M --cache /dev/dax0.0 --json=/results/bench.json"
                        + " > /results/bench.txt 2>&1; echo $? > /results/bench.rc",
                ""));
        rc = boot(work, work.resolve("devdax.img"), tar, devdax, work.resolve("devdax"), "devdax-console.log", trace);
        assertEquals(0, rc, "the device-dax boot" + timedOut(rc) + ": " + Files.readString(work.resolve("devdax-console.log")));
    }

    /**
     * A device-dax (/dev/dax0.0, an NVDIMM namespace with no file system) as the pmem cache under
     * pku: a threaded replay verifies every read and the written-back origin; its permanent mapping
     * is a second mmap (Chronicle Bytes maps files only); a second replay resumes what the first
     * committed (its seq_count goes on from there); dump and check read the device; serve runs on it
     * and stops cleanly; ssd mode refuses it; {@code dmwc info} lists it; bench measures absorb and
     * drain on it.
     */
    @Test
    void aDeviceDaxIsAPmemCache() throws IOException {
        Path r = out.getParent().resolve("devdax");
        assertTrue(Files.readString(r.resolve("ls.txt")).startsWith("c"), "a character device: " + Files.readString(r.resolve("ls.txt"))
                + Files.readString(r.resolve("ndctl.txt")));
        String info = Files.readString(r.resolve("info.txt"));
        assertTrue(java.util.regex.Pattern.compile("device-dax: +/dev/dax0\\.0 \\(\\d+ MiB, align ").matcher(info).find(), info);
        String verify = Files.readString(r.resolve("verify.txt"));
        assertEquals("0", Files.readString(r.resolve("verify.rc")).trim(), verify);
        assertTrue(verify.contains("replayed  6000 requests") && verify.contains(": 0 mismatches"), verify);
        assertTrue(verify.contains("protection pku, strict: 0 stray accesses refused; mapped MAP_SYNC (a device-dax)"), verify);
        String again = Files.readString(r.resolve("again.txt"));
        assertEquals("0", Files.readString(r.resolve("again.rc")).trim(), again);
        String dump1 = Files.readString(r.resolve("dump1.txt"));
        String dump2 = Files.readString(r.resolve("dump2.txt"));
        assertEquals("0", Files.readString(r.resolve("dump1.rc")).trim(), dump1);
        assertEquals("0", Files.readString(r.resolve("dump2.rc")).trim(), dump2);
        long seq1 = seqCount(dump1);
        long seq2 = seqCount(dump2);
        assertTrue(seq1 > 0 && seq2 > seq1, "the second run went on from the first's seq_count " + seq1 + ": " + seq2 + "\n" + dump2);
        assertTrue(java.util.regex.Pattern.compile("entries: [1-9]\\d* committed").matcher(dump2).find(), "dirty blocks left: " + dump2);
        String check = Files.readString(r.resolve("check.txt"));
        assertEquals("0", Files.readString(r.resolve("check.rc")).trim(), check);
        assertTrue(check.contains("/dev/dax0.0: clean (" + dump2.lines().findFirst().orElseThrow().replaceAll(".*n_blocks (\\d+).*", "$1")
                + " entries)"), check);
        String serve = Files.readString(r.resolve("serve.txt"));
        String status = Files.readString(r.resolve("status.txt"));
        assertEquals("0", Files.readString(r.resolve("status.rc")).trim(), status + serve);
        assertTrue(status.matches("(?s).*protection\\.map_sync +true.*") && status.matches("(?s).*protection\\.device_dax +true.*"),
                status);
        assertEquals("0", Files.readString(r.resolve("serve.rc")).trim(), serve);
        assertTrue(serve.contains("target suspended, everything acknowledged is on the devices"), serve);
        assertTrue(serve.contains("pmem cache /dev/dax0.0: dax range is map_protected (pku); using a permanent mapping "
                + "(a second mmap of the device-dax)"), serve);
        String ssd = Files.readString(r.resolve("ssd.txt"));
        assertEquals("2", Files.readString(r.resolve("ssd.rc")).trim(), ssd);
        assertTrue(ssd.contains("the cache /dev/dax0.0 is a device-dax: it can only be the cache of pmem mode"), ssd);
        String bench = Files.readString(r.resolve("bench.txt"));
        assertEquals("0", Files.readString(r.resolve("bench.rc")).trim(), bench);
        assertTrue(java.util.regex.Pattern.compile("cache +/dev/dax0\\.0 \\(\\d+ MiB, pmem mode\\)").matcher(bench).find()
                && bench.contains("protection pku, strict: 0 stray accesses refused"), bench);
        String json = Files.readString(r.resolve("bench.json"));
        for (String phase : List.of("absorb", "drain")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                    "\"phase\": \"" + phase + "\",\\s*\"ops\": (\\d+),.*?\"ratio\": ([0-9.]+)", java.util.regex.Pattern.DOTALL).matcher(json);
            assertTrue(m.find() && Long.parseLong(m.group(1)) > 0 && Double.parseDouble(m.group(2)) > 0, phase + " ran, with its ratio: " + json);
        }
    }

    private static long seqCount(String dump) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("seq_count\\s*[:=]?\\s*(\\d+)").matcher(dump);
        assertTrue(m.find(), "no seq_count in the dump: " + dump);
        return Long.parseLong(m.group(1));
    }

    /**
     * A durable store into a block the DAX file system had allocated but not yet committed survives a
     * power cut: MAP_SYNC faults commit the block first. Without them the block came back as zeros
     * (the journal lost the unwritten extent's conversion), checked once with the jar before the fix.
     */
    @Test
    void aDurableStoreSurvivesAPowerCutOnTheDaxFileSystem() throws IOException {
        Path work = out.getParent();
        assertTrue(Files.readString(work.resolve("cut-console.log")).contains("map_sync true"), "the store went through MAP_SYNC");
        ByteBuffer f = ByteBuffer.wrap(Files.readAllBytes(work.resolve("after/cut.img"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(Long.toHexString(GuestProbe.WINDOW_VALUE), Long.toHexString(f.getLong(4096)), "what was made durable is there");
    }

    /**
     * The same through a second mapping without MAP_SYNC, made as the engine's permanent mapping is: its
     * store found the block committed by the write-fault pass at open. Without that pass it came back
     * as zeros, checked once with the pass taken out.
     */
    @Test
    void aDurableStoreThroughThePermanentMappingSurvivesAPowerCut() throws IOException {
        ByteBuffer f = ByteBuffer.wrap(Files.readAllBytes(out.getParent().resolve("after/cut-permanent.img"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(Long.toHexString(GuestProbe.WINDOW_VALUE), Long.toHexString(f.getLong((int) GuestProbe.PERMANENT_OFFSET)),
                "what was made durable through the permanent mapping is there");
    }

    @Test
    void dmwcInfoFindsPkuMakesItTheDefaultAndNamesTheDaxMount() throws IOException {
        String info = Files.readString(out.resolve("info.json")).replaceAll("\\s+", "");
        assertTrue(info.contains("\"pku\":true") && info.contains("\"ospke\":true"), "the guest CPU's features: " + info);
        assertTrue(info.contains("\"protection_default\":\"pku\"") && info.contains("\"pku\":{\"available\":true"),
                info + Files.readString(out.resolve("info.err")));
        assertTrue(info.contains("\"dax_file_systems\":[{\"mount_point\":\"/mnt\",\"type\":\"ext4\",\"device\":\"/dev/pmem0\""),
                "the DAX mount: " + info);
    }

    @Test
    void kernelScenariosUnderPkuOnADaxFileSystemLeaveTheKernelsResults() throws Exception {
        assertTrue(Files.readString(out.resolve("mounts.txt")).contains("dax"), "ext4 is mounted with dax: "
                + Files.readString(out.resolve("mounts.txt")));
        for (String s : SCENARIOS) {
            String said = Files.readString(out.resolve(s + ".txt"));
            assertEquals("0", Files.readString(out.resolve(s + ".rc")).trim(), s + ": " + said);
            assertTrue(said.contains("protection pku, strict: 0 stray accesses refused; mapped MAP_SYNC (a DAX file system)"), s + ": " + said);
            Process p = new ProcessBuilder("bash", KernelImageKernelIT.oracle.resolve("compare.sh").toString(),
                    KernelImageKernelIT.REPO.resolve("test-data/kernel").resolve(s).toString(), out.resolve(s).toString())
                    .redirectErrorStream(true).start();
            String compared = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), s + " under pku on fsdax differs from the kernel:\n" + compared);
        }
    }

    @Test
    void aThreadedReplayUnderPkuOnTheDaxFileSystemVerifies() throws IOException {
        String said = Files.readString(out.resolve("replay.txt"));
        assertEquals("0", Files.readString(out.resolve("replay.rc")).trim(), said);
        assertTrue(said.contains("protection pku, strict: 0 stray accesses refused; mapped MAP_SYNC (a DAX file system)"), said);
        assertTrue(said.contains("replayed  6000 requests") && said.contains(": 0 mismatches"), said);
    }

    /** bench with {@code --baseline-dir} on the DAX file system: its baseline ran there (into pmem) and left nothing. */
    @Test
    void benchTakesItsBaselineOnTheDaxFileSystemWhenAsked() throws IOException {
        String bench = Files.readString(out.resolve("bench-dax.txt"));
        assertEquals("0", Files.readString(out.resolve("bench-dax.rc")).trim(), bench);
        assertTrue(bench.contains("MB/s (median of absorb's paired rounds, in /mnt; ") && bench.contains("cache  /mnt/b-cache.img (32 MiB, pmem mode)"), bench);
        assertTrue(Files.readString(out.resolve("bench-dax.json")).contains("\"baseline_copy_dir\": \"/mnt\""), bench);
        assertFalse(Files.readString(out.resolve("bench-dax-ls.txt")).contains("bench-copy"), "the baseline's file is removed");
    }

    @Test
    void aStoreInsideTheWindowReachesTheFileWhichIsMapSyncOnlyOnTheDaxFileSystem() throws IOException {
        String said = Files.readString(out.resolve("window.txt"));
        assertEquals("0", Files.readString(out.resolve("window.rc")).trim(), said);
        assertTrue(said.contains("backend pku") && said.contains("map_protected true, map_sync true"), said);
        assertTrue(said.contains("window store and load: " + Long.toHexString(GuestProbe.WINDOW_VALUE)), said);
        String plain = Files.readString(out.resolve("plain.txt"));
        assertTrue(plain.contains("map_protected true, map_sync false") && plain.contains("probe ended"), "a file on the initramfs: " + plain);
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
        assertEquals(Long.toHexString(GuestProbe.WINDOW_VALUE), Long.toHexString(dax.getLong(4096)),
                "what the window stored is there, and no stray store landed");
    }

    @Test
    void theRelaxedModeGrantsAStrayStoreAndCountsIt() throws IOException {
        String said = Files.readString(out.resolve("relaxed.txt"));
        assertEquals("0", Files.readString(out.resolve("relaxed.rc")).trim(), said);
        assertTrue(said.contains("backend pku, relaxed") && said.contains("relaxed stray store done, strays counted 1"), said);
        assertTrue(said.contains("Page map protection being disabled"), "warned once: " + said);
        ByteBuffer dax = ByteBuffer.wrap(Files.readAllBytes(out.resolve("dax.img"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(Long.toHexString(GuestProbe.STRAY_VALUE), Long.toHexString(dax.getLong((int) GuestProbe.RELAXED_OFFSET)));
    }

    /** What a boot's exit status 124 means (run.sh's {@code timeout} killed QEMU), or nothing. */
    private static String timedOut(int rc) {
        return rc == 124 ? " (rc 124: QEMU was killed at the VM's limit of " + BOOT_TIMEOUT_SECONDS + " s)" : "";
    }

    /** Boots the VM again on the same NVDIMM file to run {@code script}; its exit status (run.sh's). */
    private static int bootAgain(Path work, Path tar, Path script, Path results, String log) throws Exception {
        return boot(work, work.resolve("pmem.img"), tar, script, results, log);
    }

    /**
     * Boots the VM on the NVDIMM file {@code pmem} (made, 256 MiB, if missing) to run {@code script}, with
     * {@code tar} and {@code more} in /scenario; its exit status.
     */
    private static int boot(Path work, Path pmem, Path tar, Path script, Path results, String log, Path... more) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", KernelImageKernelIT.oracle.resolve("run.sh").toString(), "--accel", "tcg",
                "--quiet", "--mem", "1G", "--timeout", Integer.toString(BOOT_TIMEOUT_SECONDS), "--pmem", pmem.toString(), "--add", tar.toString(),
                "--log", work.resolve(log).toString()));
        for (Path m : more) {
            cmd.addAll(List.of("--add", m.toString()));
        }
        if (results != null) {
            cmd.addAll(List.of("--out", results.toString()));
        }
        cmd.addAll(List.of(script.toString(), "-", "-"));
        return run(work, BOOT_TIMEOUT_SECONDS + 120, cmd.toArray(String[]::new));
    }

    /** The C libraries {@code programs} need, from this machine (the guest has a static busybox only). */
    private static void copyLibraries(Path work, List<Path> programs, Path jre, Path root) throws Exception {
        TreeSet<String> libs = new TreeSet<>();
        for (Path o : programs) {
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
        String entry = GuestProbe.class.getName().replace('.', '/') + ".class";
        try (java.util.jar.JarOutputStream j = new java.util.jar.JarOutputStream(Files.newOutputStream(jar))) {
            j.putNextEntry(new java.util.jar.JarEntry(entry));
            try (java.io.InputStream in = GuestProbe.class.getClassLoader().getResourceAsStream(entry)) {
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
