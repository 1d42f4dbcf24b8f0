package dev.dmwc.writecache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --table}: the contract's form (architecture.md §4) and the features alone. */
class TableArgsTest {
    @Test
    void theContractsFormNamesModeBlockSizeAndFeatures() {
        TableArgs t = TableArgs.parse(" p 4096 2  high_watermark 60 ", "--table");
        assertTrue(t.full());
        assertEquals("p", t.mode());
        assertEquals(4096, t.blockSize());
        assertEquals(List.of("high_watermark", "60"), t.features());
        TableArgs none = TableArgs.parse("s 512 0", "--table");
        assertEquals("s", none.mode());
        assertEquals(512, none.blockSize());
        assertEquals(List.of(), none.features());
    }

    @Test
    void featuresAloneLeaveModeAndBlockSizeToTheOptions() {
        TableArgs t = TableArgs.parse("high_watermark 60 low_watermark 50", "--table");
        assertFalse(t.full());
        assertEquals(List.of("high_watermark", "60", "low_watermark", "50"), t.features());
        assertFalse(TableArgs.parse(null, "--table").full());
        assertEquals(List.of(), TableArgs.parse("  ", "--table").features());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "x 4096 0|MODE must be s or p, not 'x'",
        "p 4096|MODE, BLOCK_SIZE and NFEAT are needed",
        "p four 0|BLOCK_SIZE and NFEAT are numbers",
        "p 4096 two high_watermark 60|BLOCK_SIZE and NFEAT are numbers",
        "p 4000 0|BLOCK_SIZE must be a power of two from 512 to 4096, not 4000",
        "s 8192 0|not 8192",
        "p 4096 1 high_watermark 60|NFEAT is 1 but 2 feature arguments follow",
        "p 4096 3 high_watermark 60|NFEAT is 3 but 2 feature arguments follow",
        "p 4096 0 cleaner|NFEAT is 0 but 1 feature argument follows"})
    void aMalformedTableIsAUsageErrorNamingWhatIsWrong(String table, String message) {
        Main.UsageError e = assertThrows(Main.UsageError.class, () -> TableArgs.parse(table, "--table"));
        assertTrue(e.getMessage().startsWith("--table '" + table + "': "), e.getMessage());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void aFullTableBesideTheOptionsItOverridesIsRefused() {
        TableArgs t = TableArgs.parse("p 4096 0", "--table");
        t.refuseWith("--table", List.of());
        Main.UsageError e = assertThrows(Main.UsageError.class, () -> t.refuseWith("--table", List.of("--mode", "--block-size")));
        assertTrue(e.getMessage().contains("sets the mode and block size: give --mode or --block-size only with a --table of features alone"),
                e.getMessage());
        TableArgs.parse("cleaner", "--table").refuseWith("--table", List.of("--mode")); // features alone: fine
    }
}
