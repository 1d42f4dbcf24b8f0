package dev.dmwc.daxlib;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

/** A DAX device on a fresh sparse file under /dev/shm (or the temp dir) for benchmarks. */
final class BenchDevice implements AutoCloseable {
    final Path file;
    final DaxDevice device;

    BenchDevice(long size, ProtectionKeys.Backend backend) throws IOException {
        Path dir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        file = Files.createTempFile(dir, "dmwc-bench-", ".img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
        String why = backend.unavailableReason();
        if (why != null) {
            Files.deleteIfExists(file);
            throw new IllegalStateException("protection backend " + backend.id() + " unavailable here: " + why);
        }
        device = DaxDevice.open(file, new DaxDevice.Options().backend(backend));
        // touch every page once so the benchmark does not measure first-fault allocation
        device.setReadwrite();
        try {
            device.accessor().zero(0, size);
        } finally {
            device.setNoaccess();
        }
    }

    @Override
    public void close() throws IOException {
        device.close();
        Files.deleteIfExists(file);
    }
}
