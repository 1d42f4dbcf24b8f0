package dev.dmwc.writecache.cli;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.BlockDevice;
import dev.dmwc.writecache.block.MappedBlockDevice;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.VirtualScheduler;
import dev.dmwc.writecache.nbd.EngineLoop;
import dev.dmwc.writecache.nbd.NbdServer;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve the write-back cache as an NBD export (fio --ioengine=nbd, qemu-img, nbdcopy, nbdinfo).",
            "Existing device files are loaded (recovery), missing ones created sparse. SIGINT/SIGTERM suspend the",
            "target (commit) before exit, so nothing acknowledged is lost across a restart."})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--listen", paramLabel = "unix:PATH|tcp:HOST:PORT", defaultValue = "tcp:127.0.0.1:10809",
            description = "Default: ${DEFAULT-VALUE}")
    String listen;

    @Option(names = "--mode", paramLabel = "s|p", defaultValue = "s", description = "Default: ${DEFAULT-VALUE}")
    String mode;

    @Option(names = "--origin", paramLabel = "FILE", description = "Origin device file (default: a sparse file under /dev/shm).")
    Path origin;

    @Option(names = "--origin-size", paramLabel = "SIZE", defaultValue = "1G", description = "Size of a new origin. Default: ${DEFAULT-VALUE}")
    String originSize;

    @Option(names = "--cache", paramLabel = "FILE", description = "Cache device file (default: a sparse file under /dev/shm).")
    Path cache;

    @Option(names = "--cache-size", paramLabel = "SIZE", defaultValue = "256M", description = "Size of a new cache. Default: ${DEFAULT-VALUE}")
    String cacheSize;

    @Option(names = "--block-size", paramLabel = "N", defaultValue = "4096", description = "Default: ${DEFAULT-VALUE}")
    int blockSize;

    @Option(names = "--table", paramLabel = "FEATURES", description = "Feature arguments of the table line.")
    String table;

    @Option(names = "--export", paramLabel = "NAME", defaultValue = "", description = "Export name (default: the empty name).")
    String export;

    @Option(names = "--protection", paramLabel = "pku|software|mprotect|none", description = "pmem: protection backend.")
    String protection;

    @Override
    public Integer call() throws Exception {
        if (!mode.matches("[sp]")) {
            throw new Main.UsageError("--mode must be s or p, not '" + mode + "'");
        }
        Path shm = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        Path o = origin != null ? origin : shm.resolve("dmwc-serve-origin.img");
        Path c = cache != null ? cache : shm.resolve("dmwc-serve-cache.img");
        long oSize = Files.exists(o) ? Files.size(o) : Sizes.parse(originSize, "--origin-size");
        long cSize = Files.exists(c) ? Files.size(c) : Sizes.parse(cacheSize, "--cache-size");
        BlockDevice od = MappedBlockDevice.create(o, oSize, true);
        Object cd;
        DaxDevice dax = null;
        if (mode.equals("p")) {
            if (!Files.exists(c)) {
                try (RandomAccessFile f = new RandomAccessFile(c.toFile(), "rw")) {
                    f.setLength(cSize);
                }
            }
            ProtectionKeys.Backend b;
            try {
                b = protection == null ? ProtectionKeys.Backend.best() : ProtectionKeys.Backend.parse(protection);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageError(e.getMessage());
            }
            dax = DaxDevice.open(c, new DaxDevice.Options().backend(b));
            cd = dax;
        } else {
            cd = MappedBlockDevice.create(c, cSize, true);
        }
        List<String> argv = new ArrayList<>(List.of(mode, "origin", "cache", Integer.toString(blockSize)));
        List<String> feats = table == null || table.isBlank() ? List.of() : Arrays.asList(table.trim().split("\\s+"));
        argv.add(Integer.toString(feats.size()));
        argv.addAll(feats);
        VirtualScheduler sched = new VirtualScheduler();
        WritecacheTarget t;
        try {
            t = WritecacheTarget.create(argv, Map.of("origin", od, "cache", cd), sched, null,
                    m -> System.err.println("device-mapper: writecache: " + m));
        } catch (DmError e) {
            throw new Main.UsageError("the table was refused: " + e.getMessage());
        }
        EngineLoop loop = new EngineLoop(t, sched);
        NbdServer server;
        try {
            server = new NbdServer(loop, export, listen, m -> System.err.println("nbd: " + m));
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage());
        }
        DaxDevice daxFinal = dax;
        Thread hook = new Thread(() -> {
            try {
                server.close();
                loop.call(() -> {
                    t.remove(); // suspend: commit, then the target is gone
                    return null;
                });
                loop.close();
                od.close();
                if (daxFinal != null) {
                    daxFinal.close();
                } else {
                    ((BlockDevice) cd).close();
                }
                System.err.println("dmwc serve: suspended (committed) and stopped after " + server.requests() + " requests");
            } catch (Exception e) {
                System.err.println("dmwc serve: shutdown: " + e);
            }
        }, "dmwc-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.err.printf("dmwc serve: %s on %s (table %s; origin %s, cache %s)%n", export.isEmpty() ? "export" : "export '" + export + "'",
                server.address(), String.join(" ", argv), o, c);
        server.serve();
        return 0;
    }
}
