package dev.dmwc.daxlib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The contract every DaxDevice configuration keeps, run per protection backend usable here. */
class DaxDeviceContractTest {
    @TempDir
    Path dir;

    Path file(long size) throws IOException {
        Path p = dir.resolve("pmem.img");
        try (var f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    /** Hardware this machine lacks (pku) is skipped loudly, with the reason. */
    static void assumeUsable(ProtectionKeys.Backend b) {
        String why = b.unavailableReason();
        if (why != null) {
            System.err.println("SKIPPED: protection backend " + b.id() + " unavailable on this machine: " + why
                    + (b == ProtectionKeys.Backend.PKU ? "; it is tested in the oracle's VM, whose CPU has pku: GuestHardwareKernelIT, "
                            + "mvn -B verify -Pkernel" : ""));
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(why == null, "backend " + b.id() + " unavailable: " + why);
    }

    @ParameterizedTest
    @EnumSource(ProtectionKeys.Backend.class)
    void storesThroughTheDoorReachTheFile(ProtectionKeys.Backend b) throws IOException {
        assumeUsable(b);
        Path p = file(64 << 10);
        try (DaxDevice d = DaxDevice.open(p, new DaxDevice.Options().backend(b))) {
            assertEquals(b != ProtectionKeys.Backend.NONE, d.mapProtected());
            assertFalse(d.mapSync(), "MAP_SYNC is refused off a DAX file system, and a plain shared mapping is made");
            assertEquals(d.mapSync(), d.protection().fields().get("map_sync"));
            d.setReadwrite();
            try {
                d.accessor().pmemAssign(8, 0x1122334455667788L);
                d.accessor().memcpyFlushcache(4096, new byte[] {1, 2, 3}, 0, 3);
                d.accessor().drain();
                assertEquals(0x1122334455667788L, d.accessor().getLong(8));
            } finally {
                d.setNoaccess();
            }
        }
        byte[] f = Files.readAllBytes(p);
        assertEquals((byte) 0x88, f[8]);
        assertEquals((byte) 0x11, f[15]);
        assertArrayEquals(new byte[] {1, 2, 3}, java.util.Arrays.copyOfRange(f, 4096, 4099));
    }

    @ParameterizedTest
    @EnumSource(ProtectionKeys.Backend.class)
    void directAccessHonoursTheLimitAndRefusesPgoffBeyondTheDevice(ProtectionKeys.Backend b) throws IOException {
        assumeUsable(b);
        try (DaxDevice d = DaxDevice.open(file(16 * 4096), new DaxDevice.Options().backend(b).maxPagesPerCall(3))) {
            DaxDevice.DirectAccess a = d.directAccess(0, 16);
            assertEquals(3, a.pages());
            assertEquals(a.kaddr() + 5 * 4096, d.directAccess(5, 1).kaddr());
            assertEquals(1, d.directAccess(15, 16).pages());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.directAccess(16, 1));
            assertTrue(e.getMessage().contains("pgoff=16"), e.getMessage());
        }
    }

    @Test
    void badBackingFilesAreRefusedNamingTheValuesAndLeftUnchanged() throws IOException {
        Path missing = dir.resolve("missing.img");
        IOException e1 = assertThrows(IOException.class, () -> DaxDevice.open(missing, new DaxDevice.Options()));
        assertTrue(e1.getMessage().contains("does not exist"), e1.getMessage());
        assertFalse(Files.exists(missing));
        Path odd = dir.resolve("odd.img");
        Files.write(odd, new byte[5000]);
        IOException e2 = assertThrows(IOException.class, () -> DaxDevice.open(odd, new DaxDevice.Options()));
        assertTrue(e2.getMessage().contains("have=5000"), e2.getMessage());
        assertEquals(5000, Files.size(odd));
    }

    @Test
    void softwareBackendIsPerThreadAndNests() throws Exception {
        try (DaxDevice d = DaxDevice.open(file(8192), new DaxDevice.Options().backend(ProtectionKeys.Backend.SOFTWARE))) {
            assertThrows(StrayAccessException.class, () -> d.accessor().getLong(0));
            d.setReadwrite();
            d.setReadwrite();
            d.setNoaccess();
            assertEquals(0, d.accessor().getLong(0), "still open after one of two noaccess calls");
            AtomicReference<Throwable> other = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    d.accessor().putLong(0, 42);
                } catch (Throwable x) {
                    other.set(x);
                }
            }, "thread-B");
            t.start();
            t.join();
            assertTrue(other.get() instanceof StrayAccessException, "thread B must be refused: " + other.get());
            assertTrue(other.get().getMessage().contains("thread-B"), other.get().getMessage());
            d.setNoaccess();
            assertThrows(StrayAccessException.class, () -> d.accessor().getLong(0));
            IllegalStateException e = assertThrows(IllegalStateException.class, d::setNoaccess);
            assertTrue(e.getMessage().contains("unbalanced"), e.getMessage());
            assertEquals(3, d.pgmap().strayAccesses());
        }
    }

    @Test
    void relaxedModeGrantsTheFaultingThreadAndCounts() throws Exception {
        try (DaxDevice d = DaxDevice.open(file(8192), new DaxDevice.Options().backend(ProtectionKeys.Backend.SOFTWARE)
                .faultMode(FaultMode.RELAXED))) {
            d.accessor().putLong(0, 7);
            assertEquals(7, d.accessor().getLong(0));
            assertEquals(1, d.pgmap().strayAccesses(), "granted once, then the thread has access");
            d.setReadwrite();
            d.setNoaccess();
            d.accessor().getLong(0);
            assertEquals(2, d.pgmap().strayAccesses(), "the last noaccess closed the grant again");
        }
    }

    @Test
    void protectionCannotBeRequestedWithoutABackend() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Pgmap(0, 4096, Pgmap.PGMAP_PROTECTION, ProtectionKeys.Backend.NONE, FaultMode.STRICT));
        assertTrue(e.getMessage().contains("-EINVAL"), e.getMessage());
        if (ProtectionKeys.Backend.PKU.unavailableReason() != null) {
            assertThrows(IllegalArgumentException.class,
                    () -> new Pgmap(0, 4096, Pgmap.PGMAP_PROTECTION, ProtectionKeys.Backend.PKU, FaultMode.STRICT));
            assertFalse(Pgmap.protectionAvailable(ProtectionKeys.Backend.PKU));
        }
    }

    @Test
    void aChronicleMappingOfTheSameFileSeesTheBytesWhileTheDaxRangeIsClosed() throws Exception {
        Path p = file(64 << 10);
        try (DaxDevice d = DaxDevice.open(p, new DaxDevice.Options().backend(ProtectionKeys.Backend.SOFTWARE))) {
            d.setReadwrite();
            d.accessor().pmemAssign(4096, 0xfeedL);
            d.accessor().drain();
            d.setNoaccess();
            net.openhft.chronicle.bytes.MappedFile mf = net.openhft.chronicle.bytes.MappedFile.ofSingle(p.toFile(), 64 << 10, false);
            net.openhft.chronicle.core.io.ReferenceOwner owner = net.openhft.chronicle.core.io.ReferenceOwner.temporary("t");
            net.openhft.chronicle.bytes.MappedBytesStore s = mf.acquireByteStore(owner, 0);
            try {
                DaxAccessor perm = new DaxAccessor(s.addressForWrite(0), 64 << 10, null, Pmem.best(), null);
                assertEquals(0xfeedL, perm.getLong(4096));
                perm.pmemAssign(8192, 99);
                perm.drain();
                assertThrows(StrayAccessException.class, () -> d.accessor().getLong(8192));
                d.setReadwrite();
                assertEquals(99, d.accessor().getLong(8192));
                d.setNoaccess();
            } finally {
                s.release(owner);
                mf.releaseLast();
            }
        }
    }

    @Test
    void mappingsLargerThan2GiBWorkAcrossViewBoundaries() throws IOException {
        long size = 3L << 30; // sparse: only the touched pages take space
        Path p = file(size);
        try (DaxDevice d = DaxDevice.open(p, new DaxDevice.Options().backend(ProtectionKeys.Backend.SOFTWARE))) {
            DaxAccessor a = d.accessor();
            byte[] block = new byte[8192];
            for (int i = 0; i < block.length; i++) {
                block[i] = (byte) (i * 13 + 1);
            }
            d.setReadwrite();
            try {
                a.write((1L << 30) - 4096, block, 0, block.length);     // straddles the first 1 GiB view edge
                a.putLong((2L << 30) - 4, 0x0102030405060708L);       // an 8-byte store across the second
                a.memcpyFlushcache(size - 4096, block, 0, 4096);      // the last page
                a.drain();
                assertEquals(0x0102030405060708L, a.getLong((2L << 30) - 4));
                byte[] back = new byte[8192];
                a.read((1L << 30) - 4096, back, 0, back.length);
                assertArrayEquals(block, back);
                java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(8192);
                a.read((1L << 30) - 4096, bb);
                assertArrayEquals(block, bb.array());
            } finally {
                d.setNoaccess();
            }
        }
        try (var f = new java.io.RandomAccessFile(p.toFile(), "r")) {
            byte[] back = new byte[8192];
            f.seek((1L << 30) - 4096);
            f.readFully(back);
            assertEquals((byte) 1, back[0]);
            assertEquals((byte) (8191 * 13 + 1), back[8191]);
            f.seek((2L << 30) - 4);
            assertEquals(0x08, f.read());
            f.seek(size - 1);
            assertEquals((byte) (4095 * 13 + 1), (byte) f.read());
        }
    }
}
