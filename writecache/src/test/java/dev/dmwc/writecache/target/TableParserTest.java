package dev.dmwc.writecache.target;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.WritecacheConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TableParserTest {
    static final TableParser.Resolver DEVICES = name -> switch (name) {
        case "o" -> new TableParser.DeviceInfo(8 << 20, 512);
        case "c" -> new TableParser.DeviceInfo(1 << 20, 512);
        case "big" -> new TableParser.DeviceInfo(1 << 20, 4096);
        default -> null;
    };

    static WritecacheConfig parse(String line) throws DmError {
        return TableParser.parse(Arrays.asList(line.trim().split("\\s+")), DEVICES).config();
    }

    @ParameterizedTest(name = "[{0}] -> {1}")
    @CsvSource(delimiter = '|', value = {
        "x o c 4096 0 | Bad arguments",
        "s | Bad arguments",
        "s o | Bad arguments",
        "s o c | Bad arguments",
        "s nope c 4096 0 | Origin data device lookup failed",
        "s o nope 4096 0 | Cache data device lookup failed",
        "s o c 1000 0 | Invalid block size",
        "s o c 8192 0 | Invalid block size",
        "s o c 256 0 | Invalid block size",
        "s o c 4096k 0 | Invalid block size",
        "s o big 512 0 | Block size is smaller than device logical block size",
        "s o c 4096 | Invalid number of feature args",
        "s o c 4096 19 | Invalid number of feature args",
        "s o c 4096 3 autocommit_time 3600000 | Invalid number of feature args",
        "s o c 4096 1 bogus | Invalid optional argument",
        "s o c 4096 1 fua | Invalid optional argument",
        "p o c 4096 2 pause_writeback 100 | Invalid optional argument",
        "s o c 4096 2 high_watermark 101 | Invalid optional argument",
        "s o c 4096 2 autocommit_time 3600001 | Invalid optional argument",
        "s o c 4096 2 max_age 86400001 | Invalid optional argument",
        "s o c 4096 2 pause_writeback 60001 | Invalid optional argument",
        "s o c 4096 2 writeback_jobs x | Invalid optional argument",
        "s o c 4096 2 start_sector 2048 | Invalid optional argument",
        "s o c 4096 1 high_watermark | Invalid optional argument",
        "s o c 4096 4 high_watermark 40 low_watermark 50 | High watermark must be greater than or equal to low watermark",
    })
    void badTableLinesGetTheKernelsText(String line, String text) {
        DmError e = assertThrows(DmError.class, () -> parse(line));
        assertEquals(text, e.text());
    }

    @Test
    void defaultsDependOnTheMode() throws DmError {
        WritecacheConfig s = parse("s o c 4096 0");
        assertEquals(65536, s.autocommitBlocks);
        assertEquals(3000, s.pauseMs);
        assertEquals(false, s.writebackFua);
        WritecacheConfig p = parse("P o c 512 0");
        assertEquals(64, p.autocommitBlocks);
        assertEquals(0, p.pauseMs);
        assertEquals(true, p.writebackFua);
        assertEquals(512, p.blockSize);
    }

    @Test
    void tableOutputIsInTheKernelsFixedOrder() throws DmError {
        WritecacheConfig c = parse("p o c 4096 15 nofua cleaner max_age 5000 low_watermark 10 high_watermark 20 "
                + "start_sector 8 metadata_only writeback_jobs 0 AUTOCOMMIT_TIME 7");
        assertEquals("15 start_sector 8 high_watermark 20 low_watermark 10 writeback_jobs 0 autocommit_time 7 "
                + "max_age 5000 cleaner nofua metadata_only", c.tableFeatures());
        assertEquals("0", parse("s o c 4096 0").tableFeatures());
    }

    @Test
    void lastRepeatedOptionWinsAndTrailingArgumentsAreIgnored() throws DmError {
        List<String> argv = new ArrayList<>(Arrays.asList("s o c 4096 4 high_watermark 70 high_watermark 80 extra tokens".split(" ")));
        assertEquals(80, TableParser.parse(argv, DEVICES).config().highWmPercent);
    }

    @Test
    void numbersAreScannedLikeSscanf() {
        assertEquals(5L, TableParser.scanUnsigned(" 5", 32));
        assertEquals(4294967295L, TableParser.scanUnsigned("-1", 32));
        assertEquals(null, TableParser.scanUnsigned("5 ", 32));
        assertEquals(null, TableParser.scanUnsigned("", 32));
        assertEquals(-3, TableParser.scanSigned("-3"));
    }
}
