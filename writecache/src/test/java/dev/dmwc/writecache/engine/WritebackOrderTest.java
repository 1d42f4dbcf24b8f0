package dev.dmwc.writecache.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.Bio;
import dev.dmwc.writecache.block.BlockDevice;
import dev.dmwc.writecache.block.MemoryBlockDevice;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Write-back runs are copied on several I/O threads; to an origin whose timing depends on the
 * order of its queue (a disk model), their writes arrive in the order the worker submitted them,
 * as the kernel's bios do.
 */
class WritebackOrderTest {
    /** A device over memory, whose methods the two below change. */
    private static class Delegating implements BlockDevice {
        final MemoryBlockDevice inner;

        Delegating(String name, long size) {
            inner = new MemoryBlockDevice(name, size);
        }

        @Override
        public long sizeBytes() {
            return inner.sizeBytes();
        }

        @Override
        public void read(long sector, ByteBuffer dst) throws IOException {
            inner.read(sector, dst);
        }

        @Override
        public void write(long sector, ByteBuffer src, boolean fua) throws IOException {
            inner.write(sector, src, fua);
        }

        @Override
        public void flush() throws IOException {
            inner.flush();
        }

        @Override
        public void discard(long sector, long nSectors) throws IOException {
            inner.discard(sector, nSectors);
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }

    /** Records the order writes enter it; {@code orderSensitive} as asked. */
    private static final class RecordingOrigin extends Delegating {
        final boolean sensitive;
        final List<Long> entered = new ArrayList<>();

        RecordingOrigin(boolean sensitive) {
            super("origin", 64L << 20);
            this.sensitive = sensitive;
        }

        @Override
        public void write(long sector, ByteBuffer src, boolean fua, Runnable queued) throws IOException {
            // pmem mode copies out of a mapping, with no device read to delay: delay here, before
            // the write enters, so that runs on different threads can overtake one another
            LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(100_000));
            synchronized (entered) {
                entered.add(sector);
            }
            queued.run();
            write(sector, src, fua);
        }

        @Override
        public boolean orderSensitive() {
            return sensitive;
        }
    }

    /** A cache device whose reads (write-back's copies, in ssd mode) take 0 to 200 µs, at random. */
    private static final class JitteryCache extends Delegating {
        JitteryCache() {
            super("cache", 8L << 20);
        }

        @Override
        public void read(long sector, ByteBuffer dst) throws IOException {
            LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(200_000));
            super.read(sector, dst);
        }
    }

    private static List<Long> writeBackScattered(String mode, boolean sensitive) throws Exception {
        if (mode.equals("p")) { // a DAX device over a scratch file, in place of the jittery cache
            Path pmemFile = Files.createTempFile("dmwc-order-", ".pmem");
            try (RandomAccessFile raf = new RandomAccessFile(pmemFile.toFile(), "rw")) {
                raf.setLength(8L << 20);
            }
            try (DaxDevice dax = DaxDevice.open(pmemFile, new DaxDevice.Options().backend(ProtectionKeys.Backend.SOFTWARE))) {
                return writeBackScattered(mode, sensitive, dax);
            } finally {
                Files.deleteIfExists(pmemFile);
            }
        }
        return writeBackScattered(mode, sensitive, new JitteryCache());
    }

    private static List<Long> writeBackScattered(String mode, boolean sensitive, Object cache) throws Exception {
        RecordingOrigin origin = new RecordingOrigin(sensitive);
        Map<String, Object> devices = Map.of("origin", origin, "cache", cache);
        WritecacheTarget t = WritecacheTarget.create(List.of(mode, "origin", "cache", "4096", "0"), devices,
                new ThreadedScheduler(Throwable::printStackTrace), null, m -> { });
        try {
            // every other block: each one a run of its own
            for (long b = 0; b < 600; b++) {
                assertNull(t.submit(Bio.Op.WRITE, 0, b * 16, 4096, ByteBuffer.allocate(4096)));
            }
            t.message(new String[] {"flush"}); // writeback_all: the runs in sector order
            synchronized (origin.entered) {
                return new ArrayList<>(origin.entered);
            }
        } finally {
            t.close();
        }
    }

    @ParameterizedTest(name = "mode {0}")
    @ValueSource(strings = {"s", "p"})
    void writebackRunsReachAnOrderSensitiveOriginInTheOrderTheyWereSubmitted(String mode) throws Exception {
        List<Long> entered = writeBackScattered(mode, true);
        assertEquals(600, entered.size());
        assertEquals(0, inversions(entered), "writeback_all submits in sector order, and the writes enter the origin so: " + entered);
    }

    @ParameterizedTest(name = "mode {0}")
    @ValueSource(strings = {"s", "p"})
    void toAnOriginThatDoesNotCareTheyRaceAsTheyMay(String mode) throws Exception {
        // no turns are kept (they would cost a thread wake-up a run); this shows the test above can
        // fail: the same write-back, and the order is not kept
        List<Long> entered = writeBackScattered(mode, false);
        assertEquals(600, entered.size());
        assertTrue(inversions(entered) > 0, "600 copies of random length on 32 threads never raced");
    }

    /** How many writes entered after one at a higher sector. */
    private static int inversions(List<Long> sectors) {
        int n = 0;
        for (int i = 1; i < sectors.size(); i++) {
            if (sectors.get(i) < sectors.get(i - 1)) {
                n++;
            }
        }
        return n;
    }
}
