package dev.dmwc.daxlib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The pku backend switches the thread's rights through JNI when libdmwcnative has the symbol, and
 * the switch is glibc's: what it sets is what {@code pkey_get} (through JNA) reads back. Stray
 * accesses under pku are {@link HardwareStrayAccessTest}'s.
 */
class PkuKeysTest {
    @Test
    void theJniSwitchSetsTheRightsGlibcReadsBack() {
        DaxDeviceContractTest.assumeUsable(ProtectionKeys.Backend.PKU);
        assertTrue(JniPmem.available(), "libdmwcnative through JNI: " + JniPmem.loadError());
        assertTrue(JniPkeys.available(), "the pku switch through JNI: " + JniPkeys.loadError());
        int k = Posix.pkey_alloc(0, 0);
        assertTrue(k > 0, "pkey_alloc: errno " + Posix.errno());
        try {
            assertEquals(0, JniPkeys.set(k, Posix.PKEY_DISABLE_ACCESS));
            assertEquals(Posix.PKEY_DISABLE_ACCESS, Posix.pkey_get(k));
            assertEquals(0, JniPkeys.set(k, 2)); // PKEY_DISABLE_WRITE
            assertEquals(2, Posix.pkey_get(k));
            assertEquals(0, JniPkeys.set(k, 0));
            assertEquals(0, Posix.pkey_get(k));
            assertEquals(-1, JniPkeys.set(16, 0), "a key past the 16 of PKRU is refused");
        } finally {
            Posix.pkey_free(k);
        }
    }

    @Test
    void aSwitchMakesThisMachineLookLikeOneWithoutPku() {
        System.setProperty("dmwc.pku.disable", "true");
        try {
            assertEquals("disabled by -Ddmwc.pku.disable=true", ProtectionKeys.Backend.PKU.unavailableReason());
            assertEquals(ProtectionKeys.Backend.SOFTWARE, ProtectionKeys.Backend.best());
        } finally {
            System.clearProperty("dmwc.pku.disable");
        }
    }

    @Test
    void theBackendOpensAndClosesOnlyItsOwnKeyForThisThread() throws Exception {
        DaxDeviceContractTest.assumeUsable(ProtectionKeys.Backend.PKU);
        PkuKeys keys = new PkuKeys();
        int other = Posix.pkey_alloc(0, 0);
        try {
            keys.close();
            assertEquals(Posix.PKEY_DISABLE_ACCESS, Posix.pkey_get(keys.key()));
            // a thread copies its creator's register when it starts: start it while the key is closed
            java.util.concurrent.CountDownLatch opened = new java.util.concurrent.CountDownLatch(1);
            int[] seen = new int[1];
            Thread t = new Thread(() -> {
                try {
                    opened.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                seen[0] = Posix.pkey_get(keys.key());
            });
            t.start();
            keys.open();
            assertEquals(0, Posix.pkey_get(keys.key()));
            opened.countDown();
            t.join();
            assertEquals(Posix.PKEY_DISABLE_ACCESS, seen[0], "the register is per thread: the other thread's key stays closed");
            keys.close();
            assertEquals(Posix.PKEY_DISABLE_ACCESS, Posix.pkey_get(keys.key()));
            assertEquals(0, Posix.pkey_get(other), "another key is untouched");
        } finally {
            Posix.pkey_free(other);
            keys.detach();
        }
    }
}
