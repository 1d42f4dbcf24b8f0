package dev.dmwc.daxlib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The mprotect and pku backends are real memory protection: a stray store in a child JVM dies
 * with SIGSEGV, while the allowed access before it succeeded and reached the file, and the stray
 * word never did. HotSpot's fatal-error report names the signal and its code: {@code SEGV_ACCERR}
 * (a page without write permission) for mprotect, {@code SEGV_PKUERR} (the thread's PKRU denies
 * the page's key) for pku. Without pku on this CPU, its case is skipped loudly.
 */
class HardwareStrayAccessTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = ProtectionKeys.Backend.class, names = {"MPROTECT", "PKU"})
    void strayStoreDiesWithSigsegvWhileTheAllowedAccessSucceeds(ProtectionKeys.Backend backend)
            throws IOException, InterruptedException {
        DaxDeviceContractTest.assumeUsable(backend);
        Path img = dir.resolve("pmem.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(64 << 10);
        }
        Path hsErr = dir.resolve("hs_err.log");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:-CreateCoredumpOnCrash");
        cmd.add("-XX:ErrorFile=" + hsErr);
        cmd.add("-Xint"); // the same fault path whether or not the store was compiled
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(StrayWriterMain.class.getName());
        cmd.add(img.toString());
        cmd.add(backend.id());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String report = Files.exists(hsErr) ? Files.readString(hsErr) : "";

        assertTrue(out.contains("allowed access ok"), out);
        assertFalse(out.contains("stray store survived"), out);
        assertNotEquals(0, p.exitValue(), out);
        assertTrue(out.contains("SIGSEGV") || report.contains("SIGSEGV"), "no SIGSEGV reported:\n" + out);
        // si_code 2 is SEGV_ACCERR, 4 SEGV_PKUERR (asm-generic/siginfo.h); HotSpot prints the name when it knows it
        String code = backend == ProtectionKeys.Backend.PKU ? "SEGV_PKUERR|si_code: 4 " : "SEGV_ACCERR|si_code: 2 ";
        assertTrue(java.util.regex.Pattern.compile(code).matcher(report).find(),
                "the fault is not " + code + ":\n" + report.lines().filter(l -> l.contains("siginfo")).toList());

        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(img)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x5eedL, b.getLong(0), "the allowed store reached the file");
        assertEquals(0L, b.getLong(8), "the stray store never reached the file");
    }
}
