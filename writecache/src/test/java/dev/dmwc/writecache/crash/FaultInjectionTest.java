package dev.dmwc.writecache.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.FaultyBlockDevice;
import dev.dmwc.writecache.block.FaultyBlockDevice.Fault;
import dev.dmwc.writecache.block.MemoryBlockDevice;
import dev.dmwc.writecache.engine.VirtualScheduler;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Devices that fail on command (as dm-flakey / dm-dust): the target enters the kernel's error
 * state where the kernel does (sticky error, status field 1, the kernel's message; reads still
 * served, writes and flushes refused with EIO) and loses nothing it acknowledged.
 */
class FaultInjectionTest {
    @TempDir
    Path dir;

    FaultyBlockDevice origin;
    FaultyBlockDevice ssd;
    DaxDevice dax;
    final List<String> log = new ArrayList<>();
    VirtualScheduler sched = new VirtualScheduler();

    WritecacheTarget target(String mode) throws Exception {
        origin = new FaultyBlockDevice(new MemoryBlockDevice("origin", 1 << 20));
        Object cache;
        if (mode.equals("p")) {
            Path f = dir.resolve("pmem.img");
            try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
                r.setLength(256 << 10);
            }
            dax = DaxDevice.open(f, new DaxDevice.Options().backend(ProtectionKeys.Backend.SOFTWARE));
            cache = dax;
        } else {
            ssd = new FaultyBlockDevice(new MemoryBlockDevice("cache", 128 << 10));
            cache = ssd;
        }
        return load(mode, cache);
    }

    WritecacheTarget load(String mode, Object cache) throws Exception {
        return WritecacheTarget.create(List.of(mode, "o", "c", "4096", "2", "autocommit_time", "3600000"),
                Map.of("o", origin, "c", cache), sched, null, log::add);
    }

    @AfterEach
    void close() {
        if (dax != null) {
            dax.close();
        }
    }

    static ByteBuffer block(int tag) {
        ByteBuffer b = ByteBuffer.allocate(4096);
        for (int i = 0; i < 4096; i += 4) {
            b.putInt(i, tag);
        }
        return b;
    }

    static void assertReads(WritecacheTarget t, int blk, int tag) {
        ByteBuffer b = ByteBuffer.allocate(4096);
        assertNull(t.submit(Bio.Op.READ, 0, blk * 8L, 4096, b), "read of block " + blk);
        assertArrayEquals(block(tag).array(), b.array(), "block " + blk);
    }

    static String errorField(WritecacheTarget t) {
        return t.status().split(" ")[0];
    }

    @Test
    void ssdMetadataWriteErrorAtCommitIsStickyAndLosesNothing() throws Exception {
        WritecacheTarget t = target("s");
        assertNull(t.submit(Bio.Op.WRITE, 0, 0, 4096, block(1)));
        assertNull(t.flush());
        assertNull(t.submit(Bio.Op.WRITE, 0, 8, 4096, block(2)));
        ssd.range(0, 16).fail(Fault.WRITE, true);    // the metadata area
        assertEquals("EIO", t.flush());
        assertEquals("1", errorField(t));
        assertTrue(log.stream().anyMatch(l -> l.contains("error writing metadata")), log.toString());
        assertEquals("EIO", t.submit(Bio.Op.WRITE, 0, 16, 4096, block(3)), "writes refused in the error state");
        assertReads(t, 0, 1);                        // reads still served
        assertReads(t, 1, 2);
        assertEquals("EIO", t.flush());
        // the device heals; a reload recovers what was committed
        ssd.fail(Fault.WRITE, false);
        t.remove();
        WritecacheTarget t2 = load("s", ssd);
        assertEquals("0", errorField(t2));
        assertReads(t2, 0, 1);
    }

    @ParameterizedTest(name = "mode {0}")
    @ValueSource(strings = {"s", "p"})
    void writebackErrorOnTheOriginEntersTheErrorStateWithTheDataStillInTheCache(String mode) throws Exception {
        WritecacheTarget t = target(mode);
        for (int b = 0; b < 8; b++) {
            assertNull(t.submit(Bio.Op.WRITE, 0, b * 8L, 4096, block(100 + b)));
        }
        assertNull(t.flush());
        origin.fail(Fault.WRITE, true);
        try {
            t.message(new String[] {"flush"});
        } catch (dev.dmwc.writecache.engine.DmError e) {
            assertNotNull(e.errno());
        }
        sched.runPending();
        assertEquals("1", errorField(t));
        assertTrue(log.stream().anyMatch(l -> l.contains(mode.equals("p") ? "write error 10" : "copy error")), log.toString());
        for (int b = 0; b < 8; b++) {
            assertReads(t, b, 100 + b);              // nothing acknowledged is lost: the cache still has it
        }
        assertEquals("EIO", t.submit(Bio.Op.WRITE, 0, 80, 4096, block(9)));
        assertTrue(origin.injected() > 0);
    }

    @ParameterizedTest(name = "mode {0}")
    @ValueSource(strings = {"s", "p"})
    void aFailedOriginReadFailsThatReadOnly(String mode) throws Exception {
        WritecacheTarget t = target(mode);
        assertNull(t.submit(Bio.Op.WRITE, 0, 0, 4096, block(7)));
        origin.fail(Fault.READ, true);
        assertEquals("EIO", t.submit(Bio.Op.READ, 0, 64, 4096, ByteBuffer.allocate(4096)), "a miss goes to the origin");
        assertEquals("0", errorField(t), "not sticky");
        assertReads(t, 0, 7);                        // a hit does not touch the origin
        origin.fail(Fault.READ, false);
        assertNull(t.submit(Bio.Op.READ, 0, 64, 4096, ByteBuffer.allocate(4096)));
    }

    @Test
    void ssdFlushErrorOfTheCacheDeviceIsSticky() throws Exception {
        WritecacheTarget t = target("s");
        assertNull(t.submit(Bio.Op.WRITE, 0, 0, 4096, block(5)));
        ssd.fail(Fault.FLUSH, true);
        assertEquals("EIO", t.flush());
        assertEquals("1", errorField(t));
        assertTrue(log.stream().anyMatch(l -> l.contains("error flushing metadata")), log.toString());
        assertReads(t, 0, 5);
    }
}
