package dev.dmwc.writecache.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What every BlockDevice does: sector addressing, discard to zeros, refusal beyond the end. */
class BlockDeviceContractTest {
    @TempDir
    Path dir;

    BlockDevice make(String kind, long size) throws IOException {
        return switch (kind) {
            case "file" -> FileBlockDevice.create(dir.resolve("dev.img"), size, true);
            case "mapped" -> MappedBlockDevice.create(dir.resolve("dev.img"), size, true);
            default -> new MemoryBlockDevice("mem", size);
        };
    }

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    byte[] read(BlockDevice d, long sector, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        d.read(sector, b);
        assertEquals(0, b.remaining(), "read consumes the buffer");
        return b.array();
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "mapped", "memory"})
    void writesReadBackAndDiscardsReadAsZero(String kind) throws IOException {
        try (BlockDevice d = make(kind, 1 << 20)) {
            assertEquals(2048, d.sizeSectors());
            byte[] a = pattern(8192, 1);
            d.write(16, ByteBuffer.wrap(a), false);
            d.write(2047, ByteBuffer.wrap(pattern(512, 2)), true);
            d.flush();
            assertArrayEquals(a, read(d, 16, 8192));
            assertArrayEquals(pattern(512, 2), read(d, 2047, 512));
            d.discard(20, 4);
            byte[] after = read(d, 16, 8192);
            assertArrayEquals(java.util.Arrays.copyOfRange(a, 0, 2048), java.util.Arrays.copyOfRange(after, 0, 2048));
            assertArrayEquals(new byte[2048], java.util.Arrays.copyOfRange(after, 2048, 4096));
            assertArrayEquals(java.util.Arrays.copyOfRange(a, 4096, 8192), java.util.Arrays.copyOfRange(after, 4096, 8192));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "mapped", "memory"})
    void ioBeyondTheEndIsRefusedNamingTheRangeAndChangesNothing(String kind) throws IOException {
        try (BlockDevice d = make(kind, 64 << 10)) {
            d.write(0, ByteBuffer.wrap(pattern(64 << 10, 3)), false);
            IOException e = assertThrows(IOException.class, () -> d.write(127, ByteBuffer.wrap(new byte[1024]), false));
            assertTrue(e.getMessage().contains("sector=127") && e.getMessage().contains("bytes=1024"), e.getMessage());
            assertThrows(IOException.class, () -> d.read(-1, ByteBuffer.allocate(512)));
            assertThrows(IOException.class, () -> d.discard(120, 9));
            assertArrayEquals(pattern(64 << 10, 3), read(d, 0, 64 << 10), "nothing changed");
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1000, -512})
    void aFileThatIsNotAWholeNumberOfSectorsIsRefused(long size) throws IOException {
        Path p = dir.resolve("odd.img");
        if (size >= 0) {
            Files.write(p, new byte[(int) size]);
            IOException e = assertThrows(IOException.class, () -> FileBlockDevice.open(p, false));
            assertTrue(e.getMessage().contains("have=" + size), e.getMessage());
        } else {
            assertThrows(IOException.class, () -> FileBlockDevice.create(p, size, false));
        }
    }

    /** Blocks the file system has allocated for {@code p} (st_blocks, 512-byte units). */
    static long allocatedBlocks(Path p) throws Exception {
        Process pr = new ProcessBuilder("stat", "-c", "%b", p.toString()).redirectErrorStream(true).start();
        String out = new String(pr.getInputStream().readAllBytes()).trim();
        assertEquals(0, pr.waitFor(), out);
        return Long.parseLong(out);
    }

    /** replay --prefault: every page of a sparse file is faulted in (allocated), and no byte changes. */
    @org.junit.jupiter.api.Test
    void touchAllPagesAllocatesEveryPageAndKeepsTheContent() throws Exception {
        Path f = dir.resolve("touch.img");
        try (MappedBlockDevice d = MappedBlockDevice.create(f, 4L << 20, false)) {
            ByteBuffer w = ByteBuffer.allocate(4096);
            for (int i = 0; i < 4096; i++) {
                w.put(i, (byte) (i * 7 + 1));
            }
            d.write(8, w, false); // one page written; the other 1023 still holes
            d.flush();
            long before = allocatedBlocks(f);
            assertTrue(before < 64, "sparse before: " + before + " blocks");
            d.touchAllPages();
            d.flush();
            long after = allocatedBlocks(f);
            assertTrue(after >= (4L << 20) / 512, "every page allocated after touching: " + after + " blocks");
            ByteBuffer r = ByteBuffer.allocate(4096);
            d.read(8, r);
            for (int i = 0; i < 4096; i++) {
                assertEquals((byte) (i * 7 + 1), r.get(i), "byte " + i + " kept");
            }
            ByteBuffer z = ByteBuffer.allocate(4096);
            d.read(16, z);
            for (int i = 0; i < 4096; i++) {
                assertEquals(0, z.get(i), "a hole reads zeros after touching");
            }
        }
    }

    /**
     * A discard deallocates what it covers (a hole, as a loop device punches): mke2fs discards
     * the whole device, and writing zeros over a multi-GiB device file under /dev/shm would take
     * its size in memory. The data around the range is kept, the range reads as zeros.
     */
    @ParameterizedTest
    @ValueSource(strings = {"file", "mapped"})
    void aDiscardFreesTheFileBlocksItCovers(String kind) throws Exception {
        Path f = dir.resolve("dev.img");
        long size = 64L << 20;
        try (BlockDevice d = make(kind, size)) {
            byte[] edge = pattern(4096, 5);
            d.write(0, ByteBuffer.wrap(edge), false);
            d.write(size / 512 - 8, ByteBuffer.wrap(edge), false);
            d.write(8, ByteBuffer.wrap(new byte[(int) (size - 8192)]).put(0, (byte) 1).position(0), false);
            d.flush();
            assertTrue(allocatedBlocks(f) >= size / 512, "written in full: " + allocatedBlocks(f) + " blocks");
            d.discard(8, size / 512 - 16);
            d.flush();
            long after = allocatedBlocks(f);
            assertTrue(after < (1L << 20) / 512, "the discarded 64 MiB still allocated: " + after + " blocks");
            assertArrayEquals(edge, read(d, 0, 4096), "the first page kept");
            assertArrayEquals(edge, read(d, size / 512 - 8, 4096), "the last page kept");
            assertArrayEquals(new byte[1 << 20], read(d, 8, 1 << 20), "the discarded range reads zeros");
        }
    }

    /**
     * One mapping a GiB: a device whose views would take the process's last mappings
     * (vm.max_map_count) is refused before its file is made; a 64 TiB origin used to take all of
     * them, and the JVM died at its next allocation.
     */
    @org.junit.jupiter.api.Test
    void aDeviceTooLargeToMapIsRefusedBeforeItsFileIsMade() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/sys/vm/max_map_count")),
                "LOUD SKIP: no /proc/sys/vm/max_map_count, nothing bounds the mappings here");
        Path f = dir.resolve("huge.img");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MappedBlockDevice.create(f, 1L << 50, false)); // 1 PiB: a million views
        assertTrue(e.getMessage().contains("vm.max_map_count") && e.getMessage().contains("at most"), e.getMessage());
        assertTrue(!Files.exists(f), "no file made");
        try (MappedBlockDevice ok = MappedBlockDevice.create(f, 1L << 40, false)) { // 1 TiB: 1,024 views
            assertEquals(1L << 40, ok.sizeBytes());
        }
    }

    /**
     * A large read of a mapped device's holes allocates nothing: through the mapping, each page a
     * read fault touches in a tmpfs file is allocated. A device on a file it made answers its
     * pages never written with zeros (replay --verify's final check reads the whole origin).
     */
    @org.junit.jupiter.api.Test
    void aLargeReadOfHolesAllocatesNothing() throws Exception {
        // on tmpfs, where replay keeps its devices: a disk file system allocates no blocks for a
        // read fault, so there the old code would pass as well
        onTmpfs((f, d) -> {
            byte[] edge = pattern(4096, 6);
            d.write(8, ByteBuffer.wrap(edge), false);
            readAllAllocatingNothing(f, d, edge);
        });
    }

    /** Read all 64 MiB of {@code d} at once: nothing allocated, and {@code page} (page 1) reads back. */
    private static void readAllAllocatingNothing(Path f, MappedBlockDevice d, byte[] page) throws Exception {
        ByteBuffer all = ByteBuffer.allocateDirect(64 << 20);
        d.read(0, all);
        long after = allocatedBlocks(f);
        assertTrue(after < (1L << 20) / 512, "reading 64 MiB of holes allocated " + after + " blocks");
        byte[] got = new byte[4096];
        all.get(4096, got);
        assertArrayEquals(page, got, "the written page reads back");
    }

    /**
     * Small reads of pages a device never wrote allocate nothing either: a device on a file it
     * made answers them with zeros without a read fault (each would allocate a tmpfs page). A
     * written page reads back, a read across written and unwritten pages is right, and a discard
     * makes pages read as zeros again.
     */
    @org.junit.jupiter.api.Test
    void smallReadsOfPagesNeverWrittenAllocateNothing() throws Exception {
        onTmpfs((f, d) -> {
            byte[] page = pattern(4096, 7);
            d.write(8, ByteBuffer.wrap(page), false); // page 1
            ByteBuffer b = ByteBuffer.allocateDirect(4096);
            for (long s = 0; s < (64L << 20) >> 9; s += 8) {
                b.clear();
                d.read(s, b);
                if (s != 8) {
                    for (int i = 0; i < 4096; i += 8) {
                        assertEquals(0, b.getLong(i), "sector " + s + " byte " + i);
                    }
                }
            }
            assertTrue(allocatedBlocks(f) < (1L << 20) / 512, "4 KiB reads of 64 MiB of holes allocated " + allocatedBlocks(f) + " blocks");
            byte[] across = read(d, 4, 12288); // half of page 0, page 1, half of page 2
            byte[] want = new byte[12288];
            System.arraycopy(page, 0, want, 2048, 4096);
            assertArrayEquals(want, across);
            d.discard(0, 32); // pages 0-3: a hole again
            assertArrayEquals(new byte[4096], read(d, 8, 4096));
            assertTrue(allocatedBlocks(f) < (1L << 20) / 512);
        });
    }

    /**
     * A write and a discard of the same page, racing, end as one of the two orders: the page reads
     * back the data (discard first) or zeros (write first), and the file agrees (a reopened device
     * reads the same). Once a write to a page already written checked its bit, then the discard
     * cleared it and punched the hole, and the write's store filled the hole again unmarked: zeros
     * through the device, the data after a reopen, and on a full file system that store was SIGBUS.
     */
    @org.junit.jupiter.api.Test
    void aWriteRacingADiscardOfItsPageEndsAsOneOrTheOther() throws Exception {
        onTmpfs((f, d) -> {
            int rounds = Integer.getInteger("dmwc.test.raceRounds", 20_000);
            byte[] page = pattern(4096, 13);
            java.util.concurrent.atomic.AtomicInteger round = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
            Thread discarder = new Thread(() -> {
                try {
                    for (int r = 1; r <= rounds; r++) {
                        while (round.get() < r) {
                            Thread.onSpinWait();
                        }
                        d.discard((r & 1023) * 8L, 8);
                        done.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failed.set(t);
                    done.set(Integer.MAX_VALUE);
                }
            }, "discarder");
            discarder.start();
            ByteBuffer got = ByteBuffer.allocateDirect(4096);
            ByteBuffer inFile = ByteBuffer.allocate(4096);
            long torn = 0;
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f)) {
                for (int r = 1; r <= rounds && failed.get() == null; r++) {
                    long sector = (r & 1023) * 8L;
                    d.write(sector, ByteBuffer.wrap(page), false); // the page holds data: the next write's bit is set
                    round.set(r); // the discard starts
                    d.write(sector, ByteBuffer.wrap(page), false);
                    while (done.get() < r) {
                        Thread.onSpinWait();
                    }
                    d.read(sector, got.clear());
                    ch.read(inFile.clear(), sector << 9);
                    if (!got.flip().equals(inFile.flip())) {
                        torn++;
                    }
                }
            } finally {
                discarder.join();
            }
            if (failed.get() != null) {
                throw new AssertionError("the discarder failed", failed.get());
            }
            assertEquals(0, torn, "of " + rounds + " races, pages that read otherwise through the device than in its file");
        });
    }

    /** An empty read or write at the very end of a device of whole GiB views is nothing, not an error. */
    @ParameterizedTest
    @ValueSource(strings = {"file", "mapped", "memory"})
    void anEmptyIoAtTheEndIsNothing(String kind) throws IOException {
        long size = kind.equals("memory") ? 1 << 20 : 1L << 30; // sparse: nothing of it is allocated
        try (BlockDevice d = make(kind, size)) {
            d.read(size >> 9, ByteBuffer.allocate(0));
            d.write(size >> 9, ByteBuffer.allocate(0), false);
            d.discard(size >> 9, 0);
            assertArrayEquals(new byte[512], read(d, (size >> 9) - 1, 512));
        }
    }

    /** A device made without discards (a cache device) refuses one, naming it, and keeps its data. */
    @org.junit.jupiter.api.Test
    void aDeviceMadeWithoutDiscardsRefusesOneAndKeepsItsData() throws IOException {
        Path f = dir.resolve("cache.img");
        try (MappedBlockDevice d = MappedBlockDevice.createWithoutDiscards(f, 1 << 20, false)) {
            byte[] page = pattern(4096, 14);
            d.write(8, ByteBuffer.wrap(page), false);
            IOException e = assertThrows(IOException.class, () -> d.discard(8, 8));
            assertEquals("discard refused: " + f + " was opened as a device that takes no discards", e.getMessage());
            assertArrayEquals(page, read(d, 8, 4096));
        }
    }

    /**
     * A file that existed before the device has no record of what was written: its large reads are
     * preads, which copy the zero page for holes rather than allocate them.
     */
    @org.junit.jupiter.api.Test
    void aLargeReadOfHolesInAFileThatExistedAllocatesNothing() throws Exception {
        Path shm = Path.of("/dev/shm");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm),
                "SKIPPED LOUDLY: no writable /dev/shm (tmpfs), where a read fault on a hole allocates a page");
        Path tmp = Files.createTempDirectory(shm, "dmwc-holes-");
        Path f = tmp.resolve("old-holes.img");
        byte[] page = pattern(4096, 9);
        try {
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(page), 4096);
                ch.truncate(64L << 20);
                ch.write(ByteBuffer.wrap(new byte[1]), (64L << 20) - 1);
            }
            try (MappedBlockDevice d = MappedBlockDevice.create(f, 64L << 20, false)) {
                readAllAllocatingNothing(f, d, page);
            }
        } finally {
            Files.deleteIfExists(f);
            Files.deleteIfExists(tmp);
        }
    }

    /** A file that existed before the device keeps its content: its small reads go to the mapping. */
    @org.junit.jupiter.api.Test
    void aFileThatExistedReadsItsContent() throws Exception {
        Path f = dir.resolve("old.img");
        byte[] page = pattern(4096, 8);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(page), 4096);
            ch.truncate(1 << 20);
            ch.write(ByteBuffer.wrap(new byte[1]), (1 << 20) - 1);
        }
        try (MappedBlockDevice d = MappedBlockDevice.create(f, 1 << 20, false)) {
            assertArrayEquals(page, read(d, 8, 4096));
        }
    }


    interface OnTmpfs {
        void run(Path file, MappedBlockDevice d) throws Exception;
    }

    /** A fresh 64 MiB mapped device on /dev/shm (tmpfs: a read fault on a hole allocates a page there), removed after. */
    static void onTmpfs(OnTmpfs body) throws Exception {
        Path shm = Path.of("/dev/shm");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm),
                "SKIPPED LOUDLY: no writable /dev/shm (tmpfs), where a read fault on a hole allocates a page");
        Path tmp = Files.createTempDirectory(shm, "dmwc-holes-");
        Path f = tmp.resolve("holes.img");
        try (MappedBlockDevice d = MappedBlockDevice.create(f, 64L << 20, false)) {
            body.run(f, d);
        } finally {
            Files.deleteIfExists(f);
            Files.deleteIfExists(tmp);
        }
    }


    /**
     * A mapped device on a full file system: the write that needs a page that cannot be had fails
     * with an IOException naming the cause, before the mapping is touched (a store there would be
     * SIGBUS: an InternalError thrown later, anywhere in the thread); what was written reads back,
     * written pages can be written again, and a discard makes room for more.
     */
    @org.junit.jupiter.api.Test
    void aWriteBeyondAFullFileSystemFailsCleanly() throws Exception {
        try (SmallFileSystem fs = SmallFileSystem.mount(dir, 1)) {
            Path f = fs.dir.resolve("dev.img");
            try (MappedBlockDevice d = MappedBlockDevice.create(f, 4L << 20, false)) {
                byte[] page = pattern(4096, 11);
                long written = 0;
                IOException full = null;
                for (long s = 0; s < (4L << 20) >> 9; s += 8) {
                    try {
                        d.write(s, ByteBuffer.wrap(page), false);
                        written++;
                    } catch (IOException e) {
                        full = e;
                        break;
                    }
                }
                assertTrue(full != null, "4 MiB fitted in a 1 MiB file system");
                assertTrue(full.getMessage().startsWith("no space left on the device under " + f), full.getMessage());
                assertTrue(written >= 200 && written <= 256, written + " pages written");
                for (long p = 0; p < written; p += 37) {
                    assertArrayEquals(page, read(d, p * 8, 4096), "page " + p);
                }
                assertArrayEquals(new byte[4096], read(d, written * 8, 4096), "the page refused reads as zeros");
                d.write(0, ByteBuffer.wrap(pattern(4096, 12)), false); // an allocated page: no new space needed
                d.discard(0, 64); // 8 pages freed
                d.write(written * 8, ByteBuffer.wrap(page), false);
                assertArrayEquals(page, read(d, written * 8, 4096));
            }
        }
    }

    /** A DAX device is backed whole when it is opened: on a full file system, an IOException then, not a crash in a copy later. */
    @org.junit.jupiter.api.Test
    void aDaxDeviceThatCannotBeBackedIsRefusedAtOpen() throws Exception {
        try (SmallFileSystem fs = SmallFileSystem.mount(dir, 1)) {
            Path f = fs.dir.resolve("pmem.img");
            try (java.io.RandomAccessFile r = new java.io.RandomAccessFile(f.toFile(), "rw")) {
                r.setLength(2L << 20);
            }
            IOException e = assertThrows(IOException.class, () -> dev.dmwc.daxlib.DaxDevice.open(f,
                    new dev.dmwc.daxlib.DaxDevice.Options().backend(dev.dmwc.daxlib.ProtectionKeys.Backend.NONE)));
            assertTrue(e.getMessage().startsWith("no space left on the device under " + f), e.getMessage());
            Files.delete(f);
        }
    }

    /** Which pages of a file that existed hold data is read from the file system: its holes read as zeros, its data as it was. */
    @org.junit.jupiter.api.Test
    void aFileThatExistedHasItsHolesFound() throws Exception {
        Path f = dir.resolve("holes.img");
        byte[] a = pattern(4096, 13);
        byte[] b = pattern(4096, 14);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(a), 4096);
            ch.write(ByteBuffer.wrap(b), 3L << 20);
            ch.truncate(4L << 20);
        }
        try (dev.dmwc.daxlib.SparseFiles.Allocator al = dev.dmwc.daxlib.SparseFiles.Allocator.open(f)) {
            long[] r = al.dataRanges(4L << 20);
            // the file system's own granularity: the data pages are inside, most of the file is not
            assertTrue(r.length >= 2 && r[0] <= 4096 && r[r.length - 1] >= (3L << 20) + 4096, java.util.Arrays.toString(r));
            long data = 0;
            for (int i = 0; i < r.length; i += 2) {
                data += r[i + 1] - r[i];
            }
            assertTrue(data < (2L << 20), "most of it is holes: " + java.util.Arrays.toString(r));
        }
        try (MappedBlockDevice d = MappedBlockDevice.create(f, 4L << 20, false)) {
            assertArrayEquals(a, read(d, 8, 4096));
            assertArrayEquals(b, read(d, (3L << 20) >> 9, 4096));
            assertArrayEquals(new byte[4096], read(d, (2L << 20) >> 9, 4096));
        }
    }
}
