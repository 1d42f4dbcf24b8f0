package dev.dmwc.daxlib;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A device-dax character device ({@code /dev/daxN.M}, an NVDIMM namespace made with
 * {@code ndctl create-namespace --mode=devdax}): persistent memory with no file system and no page
 * cache, reached only through {@code mmap} (it has no read or write). Its size and alignment are in
 * sysfs, under {@code /sys/dev/char/MAJOR:MINOR}, the device on the {@code dax} bus.
 */
public final class DeviceDax {
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;
    private static final Path SYS_DEV_CHAR = Path.of("/sys/dev/char");

    private static final Path DAX_BUS = Path.of("/sys/bus/dax/devices");

    private DeviceDax() {
    }

    /** A device-dax found on this machine: its device node, size and alignment in bytes. */
    public record Found(Path path, long size, long align) {
        /** For example {@code /dev/dax0.0 (250 MiB, align 2 MiB)}. */
        public String describe() {
            return path + " (" + (size >> 20) + " MiB, align " + (align >= 1 << 20 ? (align >> 20) + " MiB" : (align >> 10) + " KiB") + ")";
        }
    }

    /**
     * The device-dax devices with a device node (those given to the kmem driver, as system RAM,
     * have none), in name order; none where there is no {@code dax} bus.
     */
    public static java.util.List<Found> present() {
        java.util.List<Found> found = new java.util.ArrayList<>();
        try (java.util.stream.Stream<Path> s = Files.list(DAX_BUS)) {
            for (Path d : s.sorted().toList()) {
                Path node = Path.of("/dev").resolve(d.getFileName().toString());
                if (is(node)) {
                    try {
                        found.add(new Found(node, size(node), align(node)));
                    } catch (IOException e) {
                        // gone or unreadable meanwhile: not listed
                    }
                }
            }
        } catch (IOException e) {
            // no dax bus: none
        }
        return found;
    }

    /** Whether {@code p} is a character device (any kind). */
    public static boolean isCharacterDevice(Path p) {
        try {
            return (((Integer) Files.getAttribute(p, "unix:mode")) & S_IFMT) == S_IFCHR;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether {@code p} is a device-dax: a character device whose sysfs device is on the {@code dax} bus. */
    public static boolean is(Path p) {
        if (!isCharacterDevice(p)) {
            return false;
        }
        try {
            Path subsystem = Files.readSymbolicLink(sysfs(p).resolve("subsystem"));
            return subsystem.getFileName() != null && subsystem.getFileName().toString().equals("dax");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** The device's size in bytes (sysfs {@code size}). */
    public static long size(Path p) throws IOException {
        return attribute(p, "size");
    }

    /**
     * The device's mapping alignment in bytes (sysfs {@code align}, 2 MiB unless the namespace was
     * made with another): a mapping's length and offset must be multiples of it.
     */
    public static long align(Path p) throws IOException {
        return attribute(p, "align");
    }

    /** {@code length} bytes at {@code offset} of the device, read through a read-only mapping of it. */
    public static byte[] read(Path device, long offset, int length) throws IOException {
        byte[] b = new byte[length];
        withMapping(device, (addr, size) -> {
            if (offset < 0 || offset + length > size) {
                throw new IOException(device + " is " + size + " bytes; cannot read " + length + " at " + offset);
            }
            new com.sun.jna.Pointer(addr).read(offset, b, 0, length);
        });
        return b;
    }

    private interface MappedUse {
        void use(long address, long size) throws IOException;
    }

    /** Maps the whole device read-only for {@code use}, then unmaps it. */
    private static void withMapping(Path device, MappedUse use) throws IOException {
        long size = size(device);
        Posix.requireLoaded();
        int fd = Posix.open(device.toString(), Posix.O_RDONLY | Posix.O_CLOEXEC);
        if (fd < 0) {
            throw new IOException("cannot open " + device + ": errno " + Posix.errno());
        }
        long addr;
        try {
            addr = Posix.mmap(0, size, Posix.PROT_READ, Posix.MAP_SHARED, fd, 0);
        } finally {
            Posix.close(fd);
        }
        if (addr == Posix.MAP_FAILED || addr == 0) {
            throw new IOException("mmap of " + device + " failed: errno " + Posix.errno() + " (its size, " + size
                    + " bytes, must be a multiple of its alignment, " + align(device) + ")");
        }
        try {
            use.use(addr, size);
        } finally {
            Posix.munmap(addr, size);
        }
    }

    /**
     * Copies the device's first {@code length} bytes into the regular file {@code to} (created or
     * truncated) and gives the file the device's size, leaving holes where a 64 KiB chunk is all
     * zeros and past {@code length}: a device-dax has no read(2), so tools that read an image's
     * metadata ({@code dump}, {@code check}) read this copy. The device is mapped read-only; nothing
     * is written to it.
     */
    public static void copySparse(Path device, Path to, long length) throws IOException {
        withMapping(device, (addr, size) -> {
            long end = Math.min(length, size);
            try (java.io.RandomAccessFile out = new java.io.RandomAccessFile(to.toFile(), "rw")) {
                out.setLength(0);
                com.sun.jna.Pointer base = new com.sun.jna.Pointer(addr);
                byte[] buf = new byte[1 << 16];
                for (long off = 0; off < end; off += buf.length) {
                    int n = (int) Math.min(buf.length, end - off);
                    base.read(off, buf, 0, n);
                    if (!SparseFiles.allZero(buf, n)) {
                        out.seek(off);
                        out.write(buf, 0, n);
                    }
                }
                out.setLength(size);
            }
        });
    }

    private static long attribute(Path p, String name) throws IOException {
        Path a = sysfs(p).resolve(name);
        String text;
        try {
            text = Files.readString(a).trim();
        } catch (NoSuchFileException e) {
            throw new IOException(p + " is a character device but not a device-dax: " + a + " does not exist");
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IOException(a + " reads '" + text + "', not a number of bytes");
        }
    }

    /** {@code /sys/dev/char/MAJOR:MINOR} of the character device {@code p} (glibc's dev_t encoding). */
    static Path sysfs(Path p) throws IOException {
        return SYS_DEV_CHAR.resolve(numbers(((Number) Files.getAttribute(p, "unix:rdev")).longValue()));
    }

    /** {@code MAJOR:MINOR} of a {@code dev_t} as glibc encodes it (major and minor each split in two). */
    static String numbers(long rdev) {
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & 0xfffff000L);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & 0xffffff00L);
        return major + ":" + minor;
    }
}
