package dev.dmwc.writecache.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.MemoryBlockDevice;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pmem cache whose entries cannot fit the Java heap is refused with the kernel's text for a
 * failed allocation, before anything touches its device. The figure for the heap left is made
 * small here: a DAX file is backed whole when opened, and one too large for this JVM's heap is
 * more than the disk here holds.
 */
class HeapCheckTest {
    @TempDir
    Path dir;

    @Test
    void aCacheWhoseEntriesCannotFitTheHeapIsRefusedBeforeItIsTouched() throws Exception {
        Path pmem = dir.resolve("pmem.img");
        try (RandomAccessFile f = new RandomAccessFile(pmem.toFile(), "rw")) {
            f.setLength(16 << 20); // about 4,000 blocks: some 250 KiB of entries
        }
        LongSupplier heap = Writecache.heapAvailable;
        Writecache.heapAvailable = () -> 64 << 10;
        List<String> log = new ArrayList<>();
        try (DaxDevice dax = DaxDevice.open(pmem, new DaxDevice.Options().backend(ProtectionKeys.Backend.SOFTWARE))) {
            Map<String, Object> devs = new HashMap<>(Map.of("o", new MemoryBlockDevice("o", 64 << 20), "c", dax));
            DmError e = assertThrows(DmError.class, () -> WritecacheTarget.create(List.of("p", "o", "c", "4096", "0"), devs,
                    new VirtualScheduler(), null, log::add));
            assertTrue(e.getMessage().contains("Cannot allocate memory"), e.getMessage());
            assertTrue(String.join("\n", log).contains("of Java heap, and this JVM has 0 MiB left"), String.join("\n", log));
        } finally {
            Writecache.heapAvailable = heap;
        }
        byte[] all = Files.readAllBytes(pmem);
        for (int i = 0; i < all.length; i++) {
            assertEquals(0, all[i], "the device is untouched, byte " + i);
        }
    }
}
