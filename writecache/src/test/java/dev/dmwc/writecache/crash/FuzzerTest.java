package dev.dmwc.writecache.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Bounded fuzzing in CI ({@code -Ddmwc.fuzz.cases=N} or {@code dmwc fuzz --cases N} for deep runs). */
class FuzzerTest {
    static final int CASES = Integer.getInteger("dmwc.fuzz.cases", 400);

    @TempDir
    Path dir;

    @ParameterizedTest(name = "mode {0}")
    @ValueSource(strings = {"s", "p"})
    void corruptedImagesAreRefusedCleanlyOrLoaded(String mode) throws Exception {
        Fuzzer.Result r = new Fuzzer(dir).images(mode, 1, CASES);
        assertEquals(0, r.failures, String.join("\n", r.examples));
        assertEquals(CASES, r.cases);
        assertTrue(r.refused > 0 && r.loaded > 0, "both outcomes seen: refused " + r.refused + ", loaded " + r.loaded);
    }

    @Test
    void mangledNbdSessionsNeverHangOrBreakTheServer() throws Exception {
        Fuzzer.Result r = new dev.dmwc.writecache.nbd.NbdFuzzer(dir).run(1, 150);
        assertEquals(0, r.failures, String.join("\n", r.examples));
        assertEquals(150, r.cases);
    }

    @Test
    void randomTableLinesGetTheKernelsErrors() {
        Fuzzer.Result r = new Fuzzer(dir).tables(1, CASES * 5);
        assertEquals(0, r.failures, String.join("\n", r.examples));
        assertTrue(r.refused > r.cases / 2, "mostly refused: " + r.refused);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"edge/blkparse-small.txt", "edge/fio2-wait.iolog", "edge/msr-wdev_0.csv", "edge/spc-with-bad-line.csv",
        "edge/tencent.csv", "ext4-tree.iolog.gz"})
    void mangledTracesEndCleanly(String trace) throws Exception {
        Fuzzer.Result r = new Fuzzer(dir).traces(Path.of("..", "test-data", "traces", trace), 1, CASES / 4);
        assertEquals(0, r.failures, String.join("\n", r.examples));
    }
}
