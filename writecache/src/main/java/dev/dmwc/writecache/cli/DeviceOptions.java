package dev.dmwc.writecache.cli;

import dev.dmwc.daxlib.DaxDevice;
import dev.dmwc.daxlib.DeviceLock;
import dev.dmwc.daxlib.FaultMode;
import dev.dmwc.daxlib.ProtectionKeys;
import dev.dmwc.writecache.block.BlockDevice;
import dev.dmwc.writecache.block.DeviceFiles;
import dev.dmwc.writecache.block.FileBlockDevice;
import dev.dmwc.writecache.block.MappedBlockDevice;
import dev.dmwc.writecache.block.ScratchFiles;
import dev.dmwc.writecache.block.ThrottledBlockDevice;
import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.ThreadedScheduler;
import dev.dmwc.writecache.target.WritecacheTarget;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The devices and table of a live target ({@code serve}, {@code bench}): files for origin and
 * cache (loaded if they exist, created sparse if not), the origin's speed model, the table's
 * features; the engine on a {@link ThreadedScheduler}.
 */
final class DeviceOptions {
    @Option(names = "--mode", paramLabel = "s|p", defaultValue = "p", description = "s: ssd mode, p: pmem mode. Default: ${DEFAULT-VALUE}")
    String mode;

    @Option(names = "--origin", paramLabel = "FILE", description = "Origin device file, or a block device (default: a sparse file in /dev/shm, removed at exit).")
    Path origin;

    @Option(names = "--origin-size", paramLabel = "SIZE", defaultValue = "1G", description = "Size of a new origin. Default: ${DEFAULT-VALUE}")
    String originSize;

    @Option(names = "--origin-model", paramLabel = "MODEL",
            description = "How fast the origin is: file (as fast as the file); ssd (80 us seek, 477 MiB/s, 1 ms flush; latencies "
                    + "of concurrent requests overlap; queue depth 128); hdd (a 7200 rpm disk: one arm serving its queue in "
                    + "ascending order, seeks by distance, 8 ms average, 143 MiB/s, a 32 MiB write cache, queue depth 32; the "
                    + "origin is the whole disk, or with hdd,size=4T the start of a 4 TiB one); or "
                    + "latency=5ms,bandwidth=100M[,flush=2ms], with rpm=7200[,cache=32M][,size=4T] a disk whose average seek is "
                    + "the latency. depth=N sets the queue depth (ssd,depth=32; default 128 for flash, 32 for a disk): "
                    + "write-back keeps that many I/Os in flight (file: 32, or file,depth=N). Default: file for serve, ssd for bench.")
    String originModel;

    /** The model when --origin-model is not given (the command's choice). */
    String defaultOriginModel = "file";

    @Option(names = "--origin-direct", description = "Open the origin file with O_DIRECT (not on tmpfs).")
    boolean originDirect;

    @Option(names = "--cache", paramLabel = "FILE", description = "Cache device file; or in ssd mode a block device, in pmem mode "
            + "a device-dax (/dev/daxN.M) (default: a sparse file in /dev/shm, removed at exit).")
    Path cache;

    @Option(names = "--cache-size", paramLabel = "SIZE", defaultValue = "256M", description = "Size of a new cache. Default: ${DEFAULT-VALUE}")
    String cacheSize;

    @Option(names = {"--block-size", "--bs"}, paramLabel = "N", defaultValue = "4096", split = ",",
            description = "Cache block size (bench takes a list and runs each). Default: ${DEFAULT-VALUE}")
    List<Integer> blockSizes;

    /** The block size {@link #open} uses: the one given, or the one a command that takes a list sets before each open. */
    int blockSize;

    @Option(names = "--table", paramLabel = "ARGS",
            description = "The writecache arguments without the devices, MODE BLOCK_SIZE NFEAT [FEATURE...], e.g. "
                    + "'p 4096 2 high_watermark 60' (default 'p 4096 0'); or the features alone, e.g. 'high_watermark 60 "
                    + "low_watermark 50', with --mode and --block-size.")
    String table;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** The table's features, once {@link #applyTable} has taken its mode and block size. */
    private List<String> features = List.of();
    private boolean tableApplied;

    /**
     * Reads {@code --table}: a table of the full form sets the mode and the block size, and is
     * refused beside {@code --mode}, {@code --block-size} or {@code extraOptions} given on the
     * command line. Commands call it before they read {@link #mode} or {@link #blockSizes}.
     */
    void applyTable(String... extraOptions) {
        TableArgs t = TableArgs.parse(table, "--table");
        if (t.full()) {
            t.refuseWith("--table", TableArgs.given(command.commandLine().getParseResult(),
                    concat(List.of("--mode", "--block-size"), List.of(extraOptions)).toArray(String[]::new)));
            mode = t.mode();
            blockSizes = List.of(t.blockSize());
        }
        features = t.features();
        tableApplied = true;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    @Option(names = "--protection", paramLabel = "pku|software|mprotect|none", description = "pmem mode: the stray-access protection backend (default: the best available).")
    String protection;

    @Option(names = "--fault-mode", paramLabel = "strict|relaxed", defaultValue = "strict",
            description = "pmem mode: what a stray access to the dax range does: refused (strict) or granted and counted (relaxed). Default: ${DEFAULT-VALUE}")
    String faultMode;

    /**
     * Set by bench, which fills what it makes: its new scratch devices (faulted in whole, or written
     * by the phases) and, in the same directory whatever the device files are, a copy-baseline file
     * of the cache's size. All of it must fit, or bench is refused; serve only warns.
     */
    boolean bench;

    /** Set by {@link #open} for bench: the size of its copy baseline's mapping ({@link #baselineSize}). */
    long baselineBytes;

    /** bench's {@code --baseline-dir}; null: {@link ScratchFiles#defaultDir()}. */
    Path baselineDir;

    /** Where bench's copy baseline goes. */
    Path baselineDir() {
        return baselineDir != null ? baselineDir : ScratchFiles.defaultDir();
    }

    /** A loaded target and what must be closed with it. */
    static final class Opened {
        private final WritecacheTarget target;
        private final List<String> argv;
        private final BlockDevice originDev;
        private final AutoCloseable cacheDev;
        private final String originDescription;
        private final String cacheDescription;
        private final List<Path> temporary;
        private final List<AutoCloseable> locks;
        private final int ioDepth;

        Opened(WritecacheTarget target, List<String> argv, BlockDevice originDev, AutoCloseable cacheDev,
                String originDescription, String cacheDescription, List<Path> temporary, List<AutoCloseable> locks, int ioDepth) {
            this.target = target;
            this.argv = argv;
            this.originDev = originDev;
            this.cacheDev = cacheDev;
            this.originDescription = originDescription;
            this.cacheDescription = cacheDescription;
            this.temporary = temporary;
            this.locks = locks;
            this.ioDepth = ioDepth;
        }

        WritecacheTarget target() {
            return target;
        }

        BlockDevice origin() {
            return originDev;
        }

        /** The writecache arguments of the table line, with the device files' names. */
        String tableLine() {
            return String.join(" ", argv);
        }

        String originDescription() {
            return originDescription;
        }

        String cacheDescription() {
            return cacheDescription;
        }

        /** The most writeback I/Os the engine keeps in flight: the origin model's queue depth. */
        int ioDepth() {
            return ioDepth;
        }

        /** pmem mode: the dax range's protection and the stray accesses it met so far; null in ssd mode. */
        DaxDevice.Protection protection() {
            return cacheDev instanceof DaxDevice d ? d.protection() : null;
        }

        /** {@code remove}: suspend (commit) and destroy the target, then close and flush the files. */
        void close(boolean suspend) throws Exception {
            if (suspend) {
                target.remove();
            } else {
                target.close();
            }
            originDev.flush();
            originDev.close();
            if (cacheDev instanceof BlockDevice b) {
                b.flush();
            }
            cacheDev.close();
            for (AutoCloseable l : locks) {
                l.close();
            }
            for (Path p : temporary) {
                ScratchFiles.delete(p);
            }
        }
    }

    Opened open() throws IOException {
        if (!tableApplied) {
            applyTable(); // a command that did not read --table itself still gets its features
        }
        if (blockSize == 0) {
            if (blockSizes.size() != 1) {
                throw new Main.UsageError("--block-size: one size here, not " + blockSizes + " (bench takes a list)");
            }
            blockSize = blockSizes.get(0);
        }
        try {
            return openDevices();
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError(e.getMessage()); // refused before a device file was made
        } catch (java.nio.file.NoSuchFileException e) {
            throw new Main.UsageError("no such file or directory: " + e.getFile());
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("multiple of")) {
                throw new Main.UsageError(e.getMessage()); // a device file of the wrong size: nothing was written
            }
            throw e;
        }
    }

    /**
     * Takes {@code p} for this process when {@code now} (a device file that exists), into {@code locks};
     * one another dmwc holds is a usage error, the locks taken so far released.
     */
    private static void lock(List<AutoCloseable> locks, Path p, boolean now) throws IOException {
        try {
            DeviceFiles.lock(locks, p, now);
        } catch (DeviceLock.InUse e) {
            for (AutoCloseable l : locks) {
                try {
                    l.close();
                } catch (Exception ex) {
                    e.addSuppressed(ex);
                }
            }
            locks.clear();
            throw new Main.UsageError(e.getMessage());
        }
    }

    /**
     * After a failed start: closes what was opened and removes the scratch files and the files made
     * for this start ({@code madeOrigin}, {@code madeCache}: null for a file that existed before).
     */
    private static void abandon(Exception e, AutoCloseable od, AutoCloseable cd, List<AutoCloseable> locks, List<Path> temporary,
            Path madeOrigin, Path madeCache) throws IOException {
        List<AutoCloseable> all = new ArrayList<>(java.util.Arrays.asList(od, cd));
        all.addAll(locks);
        for (AutoCloseable d : all) {
            if (d != null) {
                try {
                    d.close();
                } catch (Exception ex) {
                    e.addSuppressed(ex);
                }
            }
        }
        for (Path p : temporary) {
            ScratchFiles.delete(p);
        }
        for (Path p : new Path[] {madeOrigin, madeCache}) {
            if (p != null) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * The devices this command will make, against the free space where each goes, before any is
     * made: bench, which fills them whole, is refused if they cannot fit; a serve whose clients
     * could write more than fits is warned. Scratch devices go to /dev/shm, a missing file named
     * with --origin or --cache to its own directory, bench's copy baseline to {@link #baselineDir()};
     * those that share a file system are added up.
     */
    private void checkSpace(Path o, long oNeed, Path c, long cNeed, long cSize) throws IOException {
        Map<FileStore, Need> need = new LinkedHashMap<>();
        add(need, o.toAbsolutePath().getParent(), 0, oNeed);
        add(need, c.toAbsolutePath().getParent(), 1, cNeed);
        baselineBytes = 0;
        if (bench) {
            FileStore store = Files.getFileStore(baselineDir());
            Need there = need.get(store);
            baselineBytes = baselineSize(store.getUsableSpace(), there == null ? 0 : there.bytes[0] + there.bytes[1], cSize);
            add(need, baselineDir(), 2, baselineBytes);
        }
        for (Map.Entry<FileStore, Need> e : need.entrySet()) {
            checkSpace(e.getValue().dir, e.getKey(), e.getValue().bytes);
        }
    }

    /** What will be made on one file system: origin, cache and copy baseline bytes, and the first directory named there. */
    private record Need(Path dir, long[] bytes) {
    }

    private static void add(Map<FileStore, Need> need, Path dir, int slot, long bytes) throws IOException {
        if (bytes == 0 || dir == null || !Files.isDirectory(dir)) {
            return; // nothing to make, or making the file fails, and says so
        }
        need.computeIfAbsent(Files.getFileStore(dir), k -> new Need(dir, new long[3])).bytes[slot] += bytes;
    }

    private void checkSpace(Path dir, FileStore store, long[] bytes) throws IOException {
        long need = bytes[0] + bytes[1] + bytes[2];
        long free = store.getUsableSpace();
        if (need <= free) {
            return;
        }
        List<String> parts = new ArrayList<>();
        String[] names = {"origin ", "cache ", "the copy baseline "};
        for (int i = 0; i < 3; i++) {
            if (bytes[i] > 0) {
                parts.add(names[i] + human(bytes[i]));
            }
        }
        String what = String.format(java.util.Locale.ROOT, "%s in %s (%s), and %s is free there", human(need), dir,
                String.join(", ", parts), human(free));
        if (bench) {
            throw new Main.UsageError("the files bench makes would not fit: they take " + what + "; give a smaller "
                    + "--origin-size or --cache-size, or device files elsewhere with --origin/--cache"
                    + (bytes[2] > 0 ? ", or the baseline's file elsewhere with --baseline-dir" : ""));
        }
        System.err.println("dmwc: warning: the new devices may not fit: written whole they take " + what
                + "; writes past that will fail (device files elsewhere: --origin/--cache)");
    }

    static final long BASELINE_MAX = 1L << 30;
    static final long BASELINE_MIN = 64L << 20;

    /**
     * The size of bench's copy baseline, a scratch mapping beside the scratch devices: the cache's
     * size, at most {@link #BASELINE_MAX} (random 4 KiB copies go no faster into a bigger one: it is
     * far past the CPU's caches either way), halved while it does not fit in {@code free} beside
     * {@code devices} bytes, down to {@link #BASELINE_MIN}. A device-dax or a big cache file is often
     * larger than the memory /dev/shm has; the report names the mapping's size when it is smaller
     * than the cache. Still too big at the floor: {@link #checkSpace} refuses.
     */
    static long baselineSize(long free, long devices, long cacheBytes) {
        long size = Math.min(cacheBytes, BASELINE_MAX);
        while (size > BASELINE_MIN && devices + size > free) {
            size = Math.max(BASELINE_MIN, size / 2);
        }
        return size;
    }

    private static String human(long b) {
        return b >= 1L << 30 ? String.format(java.util.Locale.ROOT, "%.1f GiB", b / (double) (1L << 30))
                : String.format(java.util.Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
    }

    /** --protection, checked (a usage error); with {@code pmem}, also that this machine has it. */
    ProtectionKeys.Backend backend(boolean pmem) {
        ProtectionKeys.Backend backend;
        try {
            backend = protection == null ? ProtectionKeys.Backend.best() : ProtectionKeys.Backend.parse(protection);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--protection: " + e.getMessage());
        }
        if (pmem && backend.unavailableReason() != null) {
            throw new Main.UsageError("--protection " + backend.id() + " is unavailable here: " + backend.unavailableReason());
        }
        return backend;
    }

    /** --fault-mode, checked (a usage error). */
    FaultMode faultMode() {
        try {
            return FaultMode.parse(faultMode);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--fault-mode: " + e.getMessage());
        }
    }

    private Opened openDevices() throws IOException {
        if (!mode.matches("[sp]")) {
            throw new Main.UsageError("--mode must be s or p, not '" + mode + "'");
        }
        ProtectionKeys.Backend backend = backend(mode.equals("p")); // before any file is made
        FaultMode fm = faultMode();
        ThrottledBlockDevice.Model model;
        try {
            model = ThrottledBlockDevice.Model.parse(originModel != null ? originModel : defaultOriginModel);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageError("--origin-model: " + e.getMessage());
        }
        ImageFiles.refuseCompressed(origin, "--origin");
        ImageFiles.refuseCompressed(cache, "--cache");
        if (origin != null && cache != null && origin.toAbsolutePath().normalize().equals(cache.toAbsolutePath().normalize())) {
            throw new Main.UsageError("--origin and --cache name the same file");
        }
        List<Path> temporary = new ArrayList<>();
        Path shm = ScratchFiles.defaultDir();
        ScratchFiles.sweep(shm); // before the space check: the space of what a killed dmwc left counts
        String tag = ScratchFiles.devicePrefix();
        Path o = origin;
        if (o == null) {
            o = shm.resolve(tag + "origin.img");
            temporary.add(o);
        }
        Path c = cache;
        if (c == null) {
            c = shm.resolve(tag + "cache.img");
            temporary.add(c);
        }
        for (Path p : temporary) { // removed by close(); this covers a run stopped by SIGINT or SIGTERM
            ScratchFiles.register(p);
        }
        DeviceFiles.checkKind(o, "--origin");
        DeviceFiles.checkCacheKind(c, "--cache", mode.equals("p"));
        boolean newOrigin = !Files.exists(o);
        long oSize = newOrigin ? Sizes.parse(originSize, "--origin-size") : DeviceFiles.size(o);
        if (model.diskBytes() > 0 && model.diskBytes() < oSize) {
            throw new Main.UsageError("--origin-model: size=" + model.diskBytes() + " is the disk the origin sits at the start of, "
                    + "and the origin (" + oSize + " bytes) does not fit on it");
        }
        boolean newCache = !Files.exists(c);
        long cSize = newCache ? Sizes.parse(cacheSize, "--cache-size") : DeviceFiles.size(c);
        checkSpace(o, newOrigin ? oSize : 0, c, newCache ? cSize : 0, cSize);
        // both mappings at once, before either file is made (the origin used to be left behind)
        MappedBlockDevice.checkMappable((originDirect ? 0 : oSize) + (mode.equals("s") ? cSize : 0));
        // a device another dmwc has open is refused before anything here touches it (the kernel opens a
        // target's devices exclusively); a file made below is taken once it exists
        List<AutoCloseable> locks = new ArrayList<>();
        lock(locks, o, !newOrigin);
        lock(locks, c, !newCache);
        BlockDevice od = null;
        AutoCloseable cd = null;
        Object cacheObject;
        try {
            if (originDirect) {
                FileBlockDevice.create(o, oSize, true).close();
                try {
                    od = FileBlockDevice.openDirect(o);
                } catch (IOException e) {
                    throw new Main.UsageError("--origin-direct: " + e.getMessage());
                }
            } else {
                od = MappedBlockDevice.create(o, oSize, true);
            }
            od = ThrottledBlockDevice.wrap(od, model);
            if (mode.equals("p")) {
                if (!Files.exists(c)) {
                    try (RandomAccessFile f = new RandomAccessFile(c.toFile(), "rw")) {
                        f.setLength(cSize);
                    }
                }
                DaxDevice dax = DaxDevice.open(c, new DaxDevice.Options().backend(backend).faultMode(fm));
                cd = dax;
                cacheObject = dax;
            } else {
                BlockDevice b = MappedBlockDevice.createWithoutDiscards(c, cSize, true);
                cd = b;
                cacheObject = b;
            }
            lock(locks, o, newOrigin);
            lock(locks, c, newCache);
        } catch (IOException | RuntimeException e) {
            abandon(e, od, cd, locks, temporary, newOrigin ? o : null, newCache ? c : null);
            if (e instanceof IOException x && x.getMessage() != null && x.getMessage().startsWith("no space left")) {
                throw new Main.UsageError(x.getMessage() + ": give a smaller --cache-size or --origin-size, or device files "
                        + "elsewhere with --origin/--cache");
            }
            throw e;
        }
        List<String> argv = new ArrayList<>(List.of(mode, o.toString(), c.toString(), Integer.toString(blockSize)));
        argv.add(Integer.toString(features.size()));
        argv.addAll(features);
        // writeback keeps as many I/Os in flight as the origin's queue takes
        ThreadedScheduler sched = new ThreadedScheduler(model.queueDepth(),
                e -> System.err.println("dmwc: engine work failed: " + e));
        WritecacheTarget t;
        try {
            t = WritecacheTarget.create(argv, Map.of(o.toString(), od, c.toString(), cacheObject), sched, null,
                    m -> System.err.println("device-mapper: writecache: " + m));
        } catch (DmError | RuntimeException e) {
            sched.shutdown();
            abandon(e, od, cd, locks, temporary, newOrigin ? o : null, newCache ? c : null); // a refused table leaves nothing behind
            if (e instanceof RuntimeException r) {
                throw r; // a bug: reported as one, but the files made for it are gone
            }
            throw new Main.UsageError("the table was refused: " + e.getMessage());
        }
        String od0 = o + " (" + oSize / 1048576 + " MiB" + (originDirect ? ", O_DIRECT" : "") + ", model "
                + model + ")";
        String cd0 = c + " (" + cSize / 1048576 + " MiB, " + (mode.equals("p") ? "pmem" : "ssd") + " mode)";
        return new Opened(t, argv, od, cd, od0, cd0, temporary, locks, sched.ioDepth());
    }
}
