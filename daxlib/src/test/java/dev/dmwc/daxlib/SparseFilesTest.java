package dev.dmwc.daxlib;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SparseFilesTest {
    @Test
    void allZeroLooksAtTheFirstNBytesOnly() {
        byte[] b = new byte[200_000];   // more than one 64 KiB comparison
        assertTrue(SparseFiles.allZero(b, b.length));
        assertTrue(SparseFiles.allZero(b, 0));
        b[b.length - 1] = 1;
        assertFalse(SparseFiles.allZero(b, b.length), "a non-zero byte in the last, partial comparison");
        assertTrue(SparseFiles.allZero(b, b.length - 1), "a non-zero byte past n does not count");
        b[70_000] = (byte) 0x80;
        assertFalse(SparseFiles.allZero(b, 70_001));
        assertTrue(SparseFiles.allZero(b, 70_000));
    }
}
