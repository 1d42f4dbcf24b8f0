package dev.dmwc.daxlib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prefault: every page of the range ends up mapped, dirty-writable, with its bytes unchanged; one
 * madvise where the kernel has MADV_POPULATE_WRITE; a page that cannot be backed is an error, not
 * a SIGBUS. Page-table state is read from /proc/self/smaps (Rss, *_Dirty of the mapping).
 */
class PrefaultTest {
    private static final int SIZE = 8 << 20;

    @TempDir
    Path dir;

    @Test
    void aMappingIsFaultedInWritableWithItsContentKept() throws Exception {
        MappedByteBuffer v = map(file("populate.img"));
        long address = DirectAddress.of(v);
        assertEquals(0, kib(address, "Rss"), "nothing mapped before");
        Prefault.How how = Prefault.writable(v, "test mapping");
        if (kernelAtLeast(5, 14)) {
            assertEquals(Prefault.How.POPULATE, how, "Linux " + System.getProperty("os.version") + " has MADV_POPULATE_WRITE");
        } else {
            System.err.println("NOTE: Linux " + System.getProperty("os.version") + " has no MADV_POPULATE_WRITE; the fallback ran");
        }
        assertFaultedInDirty(address);
        assertPattern(v);
    }

    @Test
    void beforeUseLeavesTheSameState() throws Exception {
        MappedByteBuffer v = map(file("before-use.img"));
        Prefault.beforeUse(v, "test mapping");
        assertFaultedInDirty(DirectAddress.of(v));
        assertPattern(v);
    }

    @Test
    void theFallbackTouchesEveryPageOfAnUnalignedView() throws Exception {
        MappedByteBuffer v = map(file("touch.img"));
        long address = DirectAddress.of(v);
        // from byte 4000 to 100 bytes before the end: its first and last pages are partial, and
        // a stride of 4096 from byte 4000 ends in the page before the last
        ByteBuffer slice = v.slice(4000, SIZE - 4100);
        Prefault.touchEachPage(slice);
        assertFaultedInDirty(address);
        assertPattern(v);
    }

    /**
     * The touch must store even once the JIT has compiled it. The old loop, a plain
     * {@code put(i, get(i))} over the pages, changes nothing, and C2, compiling it on stack part way
     * through a large mapping, removed it, load and all: the pages after that point were never
     * faulted in, and a timed run paid for them (BENCHMARKS.md, replay section, session 19). One
     * call over 512 MiB of /dev/shm (131,072 pages) runs long enough to be compiled on the way.
     */
    @Test
    void theTouchStillStoresOnceCompiledPartWay() throws Exception {
        long size = 512L << 20;
        Path f = Files.createTempFile(Path.of("/dev/shm"), "dmwc-prefault-test", ".img");
        try {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(new byte[] {42}), size - 1);
            }
            MappedByteBuffer v = map(f);
            long address = DirectAddress.of(v);
            Prefault.touchEachPage(v);
            assertEquals(size / 1024, kib(address, "Private_Dirty") + kib(address, "Shared_Dirty"), "every page dirty");
            assertEquals(42, v.get((int) size - 1));
        } finally {
            SparseFiles.punchHole(f, 0, size); // the memory goes now, not when the GC unmaps the buffer
            Files.delete(f);
        }
    }

    /** Eight bytes across a page boundary: three in one page, five in the next, no aligned word in either. */
    @Test
    void theFallbackTouchesBothPagesOfAViewAcrossABoundary() throws Exception {
        MappedByteBuffer v = map(file("sliver.img"));
        long address = DirectAddress.of(v);
        Prefault.touchEachPage(v.slice(4093, 8));
        // a read fault maps the pages around it too (fault-around), clean; only the two are dirty
        assertEquals(8, kib(address, "Private_Dirty") + kib(address, "Shared_Dirty"), "the two pages dirty");
        assertPattern(v);
    }

    @Test
    void theAddressFormFaultsInTheSame() throws Exception {
        MappedByteBuffer v = map(file("address.img"));
        long address = DirectAddress.of(v);
        Prefault.writable(address, SIZE, "test mapping");
        assertFaultedInDirty(address);
        assertPattern(v);
    }

    /** Pages past the end of the file: a store there is SIGBUS; the populate reports EFAULT instead. */
    @Test
    void aPageThatCannotBeBackedIsAnErrorNamingTheMapping() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(kernelAtLeast(5, 14),
                "SKIPPED: Linux " + System.getProperty("os.version") + " has no MADV_POPULATE_WRITE; touching would be SIGBUS");
        Path f = file("short.img");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MappedByteBuffer v = ch.map(FileChannel.MapMode.READ_WRITE, 0, SIZE);
            ch.truncate(SIZE / 2);
            IOException e = assertThrows(IOException.class, () -> Prefault.writable(v, "the short file"));
            assertTrue(e.getMessage().contains("the short file") && e.getMessage().contains("EFAULT"), e.getMessage());
            assertEquals(SIZE / 2, Files.size(f), "the file is not grown");
        }
    }

    /** The whole file, mapped shared; the channel is closed, the mapping stays. */
    private static MappedByteBuffer map(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size());
        }
    }

    private Path file(String name) throws IOException {
        Path f = dir.resolve(name);
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(SIZE);
            for (long off = 0; off < SIZE; off += 1 << 20) {
                r.seek(off + 100);
                r.writeLong(0x5EED0000L + off);
            }
        }
        return f;
    }

    private static void assertPattern(ByteBuffer v) {
        for (int off = 0; off < SIZE; off += 4096) {
            long expected = off % (1 << 20) == 0 ? 0x5EED0000L + off : 0;
            assertEquals(expected, v.getLong(off + 100), "content at " + (off + 100));
        }
    }

    private static void assertFaultedInDirty(long address) throws IOException {
        assertEquals(SIZE / 1024, kib(address, "Rss"), "every page mapped");
        assertEquals(SIZE / 1024, kib(address, "Private_Dirty") + kib(address, "Shared_Dirty"),
                "every page mapped dirty, as a write fault leaves it");
    }

    /** A field, in KiB, of the smaps entry of the mapping that starts at {@code address}. */
    private static long kib(long address, String field) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        String start = Long.toHexString(address) + "-";
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(start)) {
                for (int j = i + 1; j < lines.size() && !lines.get(j).matches("^[0-9a-f]+-[0-9a-f]+ .*"); j++) {
                    String[] w = lines.get(j).trim().split("\\s+");
                    if (w[0].equals(field + ":")) {
                        return Long.parseLong(w[1]);
                    }
                }
                throw new AssertionError(field + " not in the smaps entry at " + start);
            }
        }
        throw new AssertionError("no mapping at " + start + " in /proc/self/smaps");
    }

    private static boolean kernelAtLeast(int major, int minor) {
        String[] v = System.getProperty("os.version").split("[.-]");
        int ma = Integer.parseInt(v[0]);
        int mi = Integer.parseInt(v[1]);
        return ma > major || ma == major && mi >= minor;
    }
}
