package dev.dmwc.writecache.bench;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.FileBlockDevice;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.VirtualScheduler;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A pmem-mode target over sparse files under /dev/shm, for benchmarks. */
final class PmemTarget implements AutoCloseable {
    final Path dir;
    final Path originFile;
    final Path pmemFile;
    final FileBlockDevice origin;
    final DaxDevice dax;
    final VirtualScheduler sched = new VirtualScheduler();
    final List<String> table;
    WritecacheTarget target;

    PmemTarget(long originBytes, long pmemBytes, ProtectionKeys.Backend backend, String... features) throws IOException, DmError {
        Path shm = Path.of("/dev/shm");
        dir = Files.createTempDirectory(Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")), "dmwc-bench-");
        originFile = dir.resolve("origin.img");
        pmemFile = dir.resolve("pmem.img");
        origin = FileBlockDevice.create(originFile, originBytes, false);
        try (RandomAccessFile f = new RandomAccessFile(pmemFile.toFile(), "rw")) {
            f.setLength(pmemBytes);
        }
        dax = DaxDevice.open(pmemFile, new DaxDevice.Options().backend(backend));
        table = new java.util.ArrayList<>(List.of("p", "o", "c", "4096", Integer.toString(features.length)));
        table.addAll(List.of(features));
        target = load();
    }

    WritecacheTarget load() throws DmError {
        return WritecacheTarget.create(table, Map.of("o", origin, "c", dax), sched, null, m -> { });
    }

    @Override
    public void close() throws IOException {
        if (target != null) {
            target.close();
        }
        dax.close();
        origin.close();
        Files.deleteIfExists(originFile);
        Files.deleteIfExists(pmemFile);
        Files.deleteIfExists(dir);
    }
}
