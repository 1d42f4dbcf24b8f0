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
}
