package dev.dmwc.daxlib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** memcpy_flushcache copies exactly the right bytes for every length 0..4096 at unaligned addresses. */
class PmemPrimitivesTest {
    @TempDir
    Path dir;

    @Test
    void theHotCallsGoThroughJniWhenTheLibraryLoadedAndBufferAddressesNeedNoNativeCall() {
        if (NativeLib.available()) {
            // the library is built by every Maven build on x86-64: JNI must link, or the data path silently pays JNA's dispatch
            org.junit.jupiter.api.Assertions.assertTrue(JniPmem.available(), "JNI: " + JniPmem.loadError());
            org.junit.jupiter.api.Assertions.assertTrue(Pmem.best().describe().contains("JNI"), Pmem.best().describe());
        } else {
            System.err.println("SKIPPED IN PART: libdmwcnative not loaded (" + NativeLib.loadError() + "); JNI not checked");
        }
        ByteBuffer b = ByteBuffer.allocateDirect(100);
        org.junit.jupiter.api.Assertions.assertEquals(com.sun.jna.Pointer.nativeValue(com.sun.jna.Native.getDirectBufferPointer(b)),
                DirectAddress.of(b));
        ByteBuffer slice = b.position(10).slice();
        org.junit.jupiter.api.Assertions.assertEquals(DirectAddress.of(b) + 10, DirectAddress.of(slice));
    }

    @Test
    void memcpyFlushcacheCopiesEveryLengthAtUnalignedAddresses() throws Exception {
        Path p = dir.resolve("pm.img");
        try (var f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(16 << 10);
        }
        System.err.println("persistence under test: " + Pmem.best().describe());
        SplittableRandom r = new SplittableRandom(42);
        ByteBuffer src = ByteBuffer.allocateDirect(4096 + 64);
        byte[] pattern = new byte[4096 + 64];
        try (DaxDevice d = DaxDevice.open(p, new DaxDevice.Options().backend(ProtectionKeys.Backend.NONE))) {
            DaxAccessor a = d.accessor();
            for (int len = 0; len <= 4096; len++) {
                int srcOff = len % 7;
                int dstOff = 4096 + (len * 13) % 61;
                r.nextBytes(pattern);
                src.clear();
                src.put(pattern).clear();
                a.zero(0, 16 << 10);
                src.position(srcOff).limit(srcOff + len);
                a.memcpyFlushcache(dstOff, src);
                a.drain();
                byte[] out = new byte[len + 2];
                a.read(dstOff - 1, out, 0, len + 2);
                byte[] want = new byte[len + 2];
                System.arraycopy(pattern, srcOff, want, 1, len);
                assertArrayEquals(want, out, "length " + len + " (neighbours must stay zero)");
                byte[] heap = Arrays.copyOfRange(pattern, 0, len);
                a.memcpyFlushcache(dstOff + 1, heap, 0, len);
                byte[] out2 = new byte[len];
                a.read(dstOff + 1, out2, 0, len);
                assertArrayEquals(heap, out2, "heap copy, length " + len);
            }
        }
    }

    /** The 8- and 16-byte assigns and the entry-then-block call store little-endian words exactly, and nothing else. */
    @Test
    void assignsAndTheEntryThenBlockCallStoreExactlyTheirWords() throws Exception {
        for (Pmem pm : new Pmem[] {Pmem.best(), JavaPmem.INSTANCE}) {
            ByteBuffer mem = ByteBuffer.allocateDirect(16 << 10).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            long base = (DirectAddress.of(mem) + 63) & ~63L;
            int at = (int) (base - DirectAddress.of(mem));
            pm.assign8(base + 8, 0x0102030405060708L);
            pm.assign16(base + 24, 0x1111111111111111L, -2L);
            ByteBuffer src = ByteBuffer.allocateDirect(4096);
            for (int i = 0; i < 4096; i++) {
                src.put(i, (byte) (i * 31 + 7));
            }
            pm.assign16ThenMemcpyFlushcache(base + 64, 77L, 78L, base + 4096, DirectAddress.of(src), 4096);
            pm.drain();
            String who = pm.describe();
            org.junit.jupiter.api.Assertions.assertEquals(0L, mem.getLong(at), who);
            org.junit.jupiter.api.Assertions.assertEquals(0x0102030405060708L, mem.getLong(at + 8), who);
            org.junit.jupiter.api.Assertions.assertEquals(0x08, mem.get(at + 8), who + ": little-endian");
            org.junit.jupiter.api.Assertions.assertEquals(0L, mem.getLong(at + 16), who);
            org.junit.jupiter.api.Assertions.assertEquals(0x1111111111111111L, mem.getLong(at + 24), who);
            org.junit.jupiter.api.Assertions.assertEquals(-2L, mem.getLong(at + 32), who);
            org.junit.jupiter.api.Assertions.assertEquals(0L, mem.getLong(at + 40), who);
            org.junit.jupiter.api.Assertions.assertEquals(77L, mem.getLong(at + 64), who);
            org.junit.jupiter.api.Assertions.assertEquals(78L, mem.getLong(at + 72), who);
            org.junit.jupiter.api.Assertions.assertEquals(0L, mem.getLong(at + 80), who);
            for (int i = 0; i < 4096; i++) {
                org.junit.jupiter.api.Assertions.assertEquals((byte) (i * 31 + 7), mem.get(at + 4096 + i), who + ": block byte " + i);
            }
            org.junit.jupiter.api.Assertions.assertEquals(0L, mem.getLong(at + 8192), who + ": past the block");
        }
    }

    /** Through the accessor: aligned and unaligned offsets, and the crash domain sees every store of the combined call. */
    @Test
    void accessorAssignsAreRecordedAndDurableOnlyAfterDrain() throws Exception {
        Path p = dir.resolve("pm2.img");
        try (var f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(16 << 10);
        }
        CrashDomain cd = new CrashDomain();
        try (DaxDevice d = DaxDevice.open(p, new DaxDevice.Options().backend(ProtectionKeys.Backend.NONE).crashDomain(cd))) {
            DaxAccessor a = d.accessor();
            a.pmemAssign(3, 0x55L);                 // unaligned: the store-and-write-back fallback
            a.pmemAssign16(100, 5L, 6L);            // 4-aligned: fallback as well
            a.pmemAssign16(128, 7L, 8L);
            ByteBuffer blk = ByteBuffer.allocateDirect(4096).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 4096; i += 8) {
                blk.putLong(i, i + 1L);
            }
            a.pmemAssign16ThenCopy(256, 9L, 10L, 8192, blk);
            org.junit.jupiter.api.Assertions.assertEquals(4096, blk.position(), "the block buffer is consumed");
            // 2 words for the unaligned u64, 3 for the unaligned entry, 2 + 2 for the entries, 512 for the block
            org.junit.jupiter.api.Assertions.assertEquals(2 + 3 + 2 + 2 + 512, cd.pendingWords());
            java.util.Set<Long> mayBeLost = new java.util.HashSet<>();
            for (long seed = 0; seed < 64; seed++) {
                mayBeLost.addAll(cd.crash(seed).keySet());
            }
            for (long w : new long[] {256, 264, 8192, 8192 + 4088}) {
                org.junit.jupiter.api.Assertions.assertTrue(mayBeLost.contains(w), "word " + w + " must be pending until the drain");
            }
            a.drain();
            org.junit.jupiter.api.Assertions.assertEquals(0, cd.pendingWords());
            org.junit.jupiter.api.Assertions.assertEquals(0x55L, a.getLong(3));
            org.junit.jupiter.api.Assertions.assertEquals(5L, a.getLong(100));
            org.junit.jupiter.api.Assertions.assertEquals(6L, a.getLong(108));
            org.junit.jupiter.api.Assertions.assertEquals(7L, a.getLong(128));
            org.junit.jupiter.api.Assertions.assertEquals(8L, a.getLong(136));
            org.junit.jupiter.api.Assertions.assertEquals(9L, a.getLong(256));
            org.junit.jupiter.api.Assertions.assertEquals(10L, a.getLong(264));
            for (int i = 0; i < 4096; i += 8) {
                org.junit.jupiter.api.Assertions.assertEquals(i + 1L, a.getLong(8192 + i), "block word " + i);
            }
        }
    }

    /**
     * A DAX file is backed whole when it is opened (a store into a hole of a full tmpfs would be
     * SIGBUS in the native copy), and nothing in it changes; replay --prefault then faults every
     * page in, again changing nothing.
     */
    @Test
    void openBacksTheWholeFileAndTouchAllPagesKeepsTheContent() throws Exception {
        Path p = dir.resolve("touch.img");
        try (var f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(4 << 20);
            f.seek(8192);
            f.writeLong(0x1234567890L);
        }
        long sparse = allocatedBlocks(p);
        try (DaxDevice d = DaxDevice.open(p, new DaxDevice.Options().backend(ProtectionKeys.Backend.NONE))) {
            long opened = allocatedBlocks(p);
            org.junit.jupiter.api.Assertions.assertTrue(sparse < 64 && opened >= (4 << 20) / 512,
                    "allocated 512-byte blocks before the open " + sparse + ", after " + opened);
            DaxAccessor a = d.accessor();
            org.junit.jupiter.api.Assertions.assertEquals(0x1234567890L, Long.reverseBytes(a.getLong(8192)), "content kept");
            org.junit.jupiter.api.Assertions.assertEquals(0L, a.getLong(4096), "a hole still reads zero");
            a.touchAllPages();
            org.junit.jupiter.api.Assertions.assertEquals(0x1234567890L, Long.reverseBytes(a.getLong(8192)), "content kept");
            org.junit.jupiter.api.Assertions.assertEquals(0L, a.getLong(4096), "a hole still reads zero");
        }
    }

    private static long allocatedBlocks(Path p) throws Exception {
        Process pr = new ProcessBuilder("stat", "-c", "%b", p.toString()).redirectErrorStream(true).start();
        String out = new String(pr.getInputStream().readAllBytes()).trim();
        org.junit.jupiter.api.Assertions.assertEquals(0, pr.waitFor(), out);
        return Long.parseLong(out);
    }
}
