package dev.dmwc.daxlib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What this machine can show of device-dax support: telling one from other character devices and
 * files, and refusing the others with their names. A real device-dax is opened, mapped and used
 * as a pmem cache in the oracle's VM ({@code GuestHardwareKernelIT}, an NVDIMM namespace made
 * devdax there), since this machine has none.
 */
class DeviceDaxTest {
    @TempDir
    Path dir;

    @Test
    void aCharacterDeviceIsFoundInSysfsByItsNumbers() throws IOException {
        Path nul = Path.of("/dev/null");
        assertTrue(DeviceDax.isCharacterDevice(nul));
        assertEquals(Path.of("/sys/dev/char/1:3"), DeviceDax.sysfs(nul), "/dev/null is 1:3 on Linux");
        assertTrue(Files.isDirectory(DeviceDax.sysfs(nul)));
    }

    /** glibc's makedev: the low 8 bits of the minor, then 12 of the major, then the rest of each. */
    @Test
    void largeMajorAndMinorNumbersAreDecodedAsGlibcEncodesThem() {
        assertEquals("1:3", DeviceDax.numbers(0x103));
        long major = 0x12345;
        long minor = 0x6789a;
        long rdev = ((major & 0xfffff000L) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xff);
        assertEquals(major + ":" + minor, DeviceDax.numbers(rdev));
        assertEquals("252:0", DeviceDax.numbers(252 << 8), "a device-dax's usual numbers");
    }

    @Test
    void otherCharacterDevicesAndFilesAreNotDeviceDax() throws IOException {
        Path file = Files.write(dir.resolve("cache.img"), new byte[8192]);
        assertFalse(DeviceDax.is(Path.of("/dev/null")), "/dev/null is in class mem");
        assertFalse(DeviceDax.is(Path.of("/dev/zero")));
        assertFalse(DeviceDax.is(file));
        assertFalse(DeviceDax.isCharacterDevice(file));
        assertFalse(DeviceDax.is(dir.resolve("missing")));
        IOException e = assertThrows(IOException.class, () -> DeviceDax.size(Path.of("/dev/null")));
        assertEquals("/dev/null is a character device but not a device-dax: /sys/dev/char/1:3/size does not exist", e.getMessage());
    }

    @Test
    void daxDeviceRefusesACharacterDeviceThatIsNotADeviceDax() {
        IOException e = assertThrows(IOException.class, () -> DaxDevice.open(Path.of("/dev/zero"), new DaxDevice.Options()
                .backend(ProtectionKeys.Backend.NONE)));
        assertEquals("dax backing file is neither a regular file nor a device-dax: path=/dev/zero", e.getMessage());
    }

    @Test
    void aFileIsNotADeviceDaxInTheProtectionReport() throws IOException {
        Path file = Files.write(dir.resolve("cache.img"), new byte[8192]);
        try (DaxDevice d = DaxDevice.open(file, new DaxDevice.Options().backend(ProtectionKeys.Backend.SOFTWARE))) {
            assertFalse(d.deviceDax());
            assertFalse(d.protection().deviceDax());
            assertEquals(false, d.protection().fields().get("device_dax"));
        }
        assertEquals("software, strict: 0 stray accesses refused; mapped MAP_SYNC (a device-dax)",
                new DaxDevice.Protection(ProtectionKeys.Backend.SOFTWARE, FaultMode.STRICT, true, 0, true, true).describe());
    }
}
