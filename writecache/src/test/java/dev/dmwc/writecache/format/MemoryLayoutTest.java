package dev.dmwc.writecache.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** calculate_memory_size against the block counts the real kernel reported (test-data/kernel). */
class MemoryLayoutTest {
    @ParameterizedTest(name = "{0} bytes, {1}-byte blocks: {2} blocks")
    @CsvSource({
        "1048576, 4096, 254",      // ssd-basic
        "1048576, 512, 1985",      // ssd-blocksize
        "1048576, 1024, 1008",     // ssd-bs1024
        "1015808, 4096, 247",      // ssd-start-sector: 1 MiB minus start_sector 64
        "14680064, 4096, 3570",    // pmem-basic: the 14 MiB /dev/pmem0
        "14680064, 512, 27803",    // pmem-blocksize
        "14680064, 2048, 7112",    // pmem-bs2048
        "14647296, 4096, 3562",    // pmem-start-sector
    })
    void blockCountsMatchTheKernel(long deviceBytes, int blockSize, long nBlocks) throws Exception {
        MemoryLayout m = MemoryLayout.calculate(deviceBytes, blockSize);
        assertEquals(nBlocks, m.nBlocks);
        long meta = MemoryLayout.metadataBytes(m.nBlocks, blockSize);
        assertEquals(0, meta % blockSize, "metadata rounded up to the block size");
        assertTrue(meta + m.nBlocks * blockSize <= deviceBytes, "metadata and data fit the device");
        assertTrue(MemoryLayout.metadataBytes(m.nBlocks + 1, blockSize) + (m.nBlocks + 1) * blockSize > deviceBytes,
                "one block more would not fit");
    }

    @Test
    void aDeviceTooSmallForOneBlockIsRefused() {
        MemoryLayout.SizeException e = org.junit.jupiter.api.Assertions.assertThrows(MemoryLayout.SizeException.class,
                () -> MemoryLayout.calculate(4096, 4096));
        assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
    }

    @Test
    void aKernelMadeImageReadsBackWithItsSuperblockAndEntries(@TempDir Path dir) throws IOException {
        Path img = dir.resolve("cache.img");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(Path.of("..", "test-data", "kernel", "ssd-recovery", "cache.img.gz")))) {
            Files.copy(in, img);
        }
        try (CacheImage c = CacheImage.open(img, 0)) {
            assertEquals(List.of(), c.loadProblems());
            assertEquals(4096, c.blockSize);
            assertEquals(254, c.nBlocks);
            var entries = c.entries();
            assertEquals(254, entries.size());
            assertTrue(entries.stream().anyMatch(e -> e.state() == CacheImage.State.COMMITTED));
            assertEquals(List.of(), c.entryProblems(entries, 8 << 20 >> 9));
        }
    }

    @Test
    void aForeignImageIsReportedNotRead(@TempDir Path dir) throws IOException {
        Path img = dir.resolve("foreign.img");
        byte[] junk = new byte[1 << 20];
        new java.util.Random(5).nextBytes(junk);
        Files.write(img, junk);
        try (CacheImage c = CacheImage.open(img, 0)) {
            assertTrue(c.loadProblems().stream().anyMatch(p -> p.contains("Invalid magic")), c.loadProblems().toString());
        }
        assertTrue(java.util.Arrays.equals(junk, Files.readAllBytes(img)), "reading never writes");
    }
}
