package dev.dmwc.writecache.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ScheduleScreen} on the kernel's scenarios. Of the 72 stored ones, four come out otherwise
 * under some shuffled order (session 22): the three split-write scenarios, which the kernel was
 * traced to settle, and {@code ssd-full-writearound}. The rest settle before every op that could
 * see background work, so no order changes them.
 */
class ScheduleScreenTest {
    private static WcScript scenario(String name) throws Exception {
        return WcScript.parse(Path.of("..", "test-data", "kernel", name, "script.wcs"), null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ssd-split-write-writeback", "ssd-split-write-second-writeback", "ssd-split-write-throttled-writeback"})
    void theSplitWriteScenariosDependOnTheOrderOfBackgroundWork(String name, @TempDir Path work) throws Exception {
        assertNotEquals(0, ScheduleScreen.firstDifferingDraw(scenario(name), 4, work),
                name + ": what runs between the parts decides the free blocks, so some order must change the result");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ssd-writeback", "pmem-writeback", "ssd-crash", "pmem-cleaner"})
    void aScenarioThatSettlesComesOutTheSameInAnyOrder(String name, @TempDir Path work) throws Exception {
        assertEquals(0, ScheduleScreen.firstDifferingDraw(scenario(name), 8, work), name);
    }
}
