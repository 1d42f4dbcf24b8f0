package dev.dmwc.daxlib;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code struct dax_device} over a plain file (default under {@code /dev/shm}; a real fsdax file
 * works the same) or a device-dax ({@code /dev/daxN.M}, {@link DeviceDax}). It is mapped shared
 * through libc so that protection applies to exactly this mapping. On a DAX file system (ext4 or
 * xfs mounted with dax, on persistent memory) and on a device-dax the mapping is {@code MAP_SYNC}
 * ({@link #mapSync()}), so what a store and a flush made durable stays with its block after a
 * power cut. {@link #mapProtected()} is derived from the pgmap (Dan
 * Williams' review of V8: no per-device protection operations).
 */
public final class DaxDevice implements AutoCloseable {
    public static final int PAGE_SIZE = 4096;

    /** How to open a device. */
    public static final class Options {
        ProtectionKeys.Backend backend = ProtectionKeys.Backend.best();
        FaultMode faultMode = FaultMode.STRICT;
        long maxPagesPerCall;
        boolean synchronous = true;
        CrashDomain crashDomain;

        public Options backend(ProtectionKeys.Backend b) { this.backend = b; return this; }
        public Options faultMode(FaultMode m) { this.faultMode = m; return this; }
        /** {@code directAccess} returns at most this many pages per call (0: no limit). */
        public Options maxPagesPerCall(long n) { this.maxPagesPerCall = n; return this; }
        /** {@code dax_synchronous}: false emulates asynchronous pmem (virtio-pmem). */
        public Options synchronous(boolean s) { this.synchronous = s; return this; }
        public Options crashDomain(CrashDomain d) { this.crashDomain = d; return this; }
        public ProtectionKeys.Backend backend() { return backend; }
        public FaultMode faultMode() { return faultMode; }
    }

    /** What {@code dax_direct_access} returns: the kernel address and how many pages it covers. */
    public record DirectAccess(long kaddr, long pages) {}

    private final Path path;
    private final long size;
    private final long address;
    private final Pgmap pgmap;
    private final DaxAccessor accessor;
    private final Options options;
    private final boolean mapSync;
    private final boolean deviceDax;
    private boolean closed;

    private DaxDevice(Path path, long size, long address, boolean mapSync, boolean deviceDax, Pgmap pgmap, Options options) {
        this.mapSync = mapSync;
        this.deviceDax = deviceDax;
        this.path = path;
        this.size = size;
        this.address = address;
        this.pgmap = pgmap;
        this.options = options;
        this.accessor = new DaxAccessor(address, size, pgmap, Pmem.best(), options.crashDomain);
    }

    /**
     * Open {@code file} as a DAX device: a regular file, or a device-dax mapped whole. A file must
     * exist, be at least one page and a whole number of pages. Nothing is written to it; a file's
     * holes are allocated (they read as zeros still), since a DAX range is backed whole, and an
     * IOException says so when its file system is full.
     */
    public static DaxDevice open(Path file, Options options) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException("dax backing file does not exist: path=" + file);
        }
        boolean deviceDax = DeviceDax.is(file);
        if (!deviceDax && !Files.isRegularFile(file)) {
            throw new IOException("dax backing file is neither a regular file nor a device-dax: path=" + file);
        }
        long size = deviceDax ? DeviceDax.size(file) : Files.size(file);
        if (size < PAGE_SIZE || size % PAGE_SIZE != 0) {
            throw new IOException("dax backing file must be a positive multiple of " + PAGE_SIZE
                    + " bytes: have=" + size + ", path=" + file);
        }
        if (deviceDax && size % DeviceDax.align(file) != 0) {
            throw new IOException("device-dax " + file + " is " + size + " bytes, not a multiple of its alignment ("
                    + DeviceDax.align(file) + "), so it cannot be mapped whole");
        }
        Posix.requireLoaded();
        int flags = options.backend == ProtectionKeys.Backend.NONE ? 0 : Pgmap.PGMAP_PROTECTION;
        int fd = Posix.open(file.toString(), Posix.O_RDWR);
        if (fd < 0) {
            throw new IOException("cannot open dax backing file: errno " + Posix.errno() + ", path=" + file);
        }
        long addr;
        boolean mapSync;
        try {
            // backed whole before it is mapped, as a DAX range is: a store into a hole of a full
            // tmpfs would raise SIGBUS inside the native copy and end the JVM
            if (!deviceDax) {
                SparseFiles.allocateWhole(fd, file, size);
            }
            // MAP_SYNC where the file system is DAX and on a device-dax; elsewhere (tmpfs, a disk) it is refused
            // (EOPNOTSUPP, or EINVAL before Linux 4.15) and a plain shared mapping is what there is
            addr = Posix.mmap(0, size, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_SHARED_VALIDATE | Posix.MAP_SYNC, fd, 0);
            mapSync = addr != Posix.MAP_FAILED && addr != 0;
            if (!mapSync) {
                addr = Posix.mmap(0, size, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_SHARED, fd, 0);
            }
        } finally {
            Posix.close(fd);
        }
        if (addr == Posix.MAP_FAILED || addr == 0) {
            throw new IOException("mmap of dax backing file failed: errno " + Posix.errno() + ", path=" + file);
        }
        boolean ok = false;
        try {
            if (mapSync) {
                writeFaultEveryPage(addr, size, file);
            }
            Pgmap pgmap = new Pgmap(addr, size, flags, options.backend, options.faultMode);
            pgmap.keys().attach(addr, size);
            DaxDevice d = new DaxDevice(file, size, addr, mapSync, deviceDax, pgmap, options);
            ok = true;
            return d;
        } finally {
            if (!ok) {
                Posix.munmap(addr, size);
            }
        }
    }

    /**
     * A write fault in every page through the {@code MAP_SYNC} mapping, contents unchanged
     * ({@link Prefault}): on a DAX file system it returns only once the file system has committed
     * the page's block (an allocated extent is "unwritten" until then). Another mapping of the file
     * without {@code MAP_SYNC} (the engine's permanent mapping, made with Chronicle Bytes) then only
     * ever meets committed blocks, so a power cut cannot take back a block its stores went to.
     */
    private static void writeFaultEveryPage(long addr, long size, Path file) throws IOException {
        Prefault.writable(addr, size, "dax backing file " + file);
    }

    /**
     * Whether the range is mapped {@code MAP_SYNC}: its file is on a DAX file system, so stores reach
     * persistent memory directly and the file system commits a block before a store can land in it.
     */
    public boolean mapSync() {
        return mapSync;
    }

    /** Whether this is a device-dax ({@code /dev/daxN.M}), not a file. */
    public boolean deviceDax() {
        return deviceDax;
    }

    /**
     * A second shared mapping of the whole device, outside the pgmap: the permanent mapping for a
     * device-dax, which Chronicle Bytes cannot make (it maps regular files only).
     */
    public Alias mapAlias() throws IOException {
        ensureOpen();
        int fd = Posix.open(path.toString(), Posix.O_RDWR | Posix.O_CLOEXEC);
        if (fd < 0) {
            throw new IOException("cannot open " + path + " for a second mapping: errno " + Posix.errno());
        }
        long addr;
        try {
            addr = Posix.mmap(0, size, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_SHARED, fd, 0);
        } finally {
            Posix.close(fd);
        }
        if (addr == Posix.MAP_FAILED || addr == 0) {
            throw new IOException("second mapping of " + path + " failed: errno " + Posix.errno());
        }
        return new Alias(addr, size);
    }

    /** A mapping made by {@link #mapAlias()}; unmapped at close. */
    public static final class Alias implements AutoCloseable {
        private final long address;
        private final long size;
        private boolean closed;

        Alias(long address, long size) {
            this.address = address;
            this.size = size;
        }

        public long address() {
            return address;
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                Posix.munmap(address, size);
            }
        }
    }

    /**
     * {@code dax_direct_access}: the address of page {@code pgoff} and how many of the
     * {@code nrPages} asked for are contiguous from there (fewer with {@code maxPagesPerCall}).
     * Taking the address needs no bracket; touching it does.
     */
    public DirectAccess directAccess(long pgoff, long nrPages) {
        ensureOpen();
        long total = size / PAGE_SIZE;
        if (pgoff < 0 || pgoff >= total) {
            throw new IllegalArgumentException("pgoff beyond the device: pgoff=" + pgoff + ", pages=" + total
                    + ", path=" + path);
        }
        if (nrPages <= 0) {
            throw new IllegalArgumentException("nrPages must be positive: " + nrPages);
        }
        long n = Math.min(nrPages, total - pgoff);
        if (options.maxPagesPerCall > 0) {
            n = Math.min(n, options.maxPagesPerCall);
        }
        return new DirectAccess(address + pgoff * PAGE_SIZE, n);
    }

    /** {@code dax_map_protected}: the pgmap has {@code PGMAP_PROTECTION}. */
    public boolean mapProtected() {
        return !closed && pgmap != null && (pgmap.flags() & Pgmap.PGMAP_PROTECTION) != 0;
    }

    public Pgmap pgmap() { return pgmap; }

    /**
     * What guards the range and what it has caught, for a command's report (architecture.md §4:
     * every command that opens a pmem device reports the stray accesses refused).
     *
     * @param strayAccesses accesses without rights so far: refused (strict) or granted and counted (relaxed)
     */
    public record Protection(ProtectionKeys.Backend backend, FaultMode faultMode, boolean mapProtected, long strayAccesses,
            boolean mapSync, boolean deviceDax) {
        public Protection(ProtectionKeys.Backend backend, FaultMode faultMode, boolean mapProtected, long strayAccesses,
                boolean mapSync) {
            this(backend, faultMode, mapProtected, strayAccesses, mapSync, false);
        }

        /**
         * For example {@code software, strict: 0 stray accesses refused}; on a DAX file system, with
         * {@code ; mapped MAP_SYNC (a DAX file system)} after it, on a device-dax
         * {@code ; mapped MAP_SYNC (a device-dax)}.
         */
        public String describe() {
            String sync = mapSync ? "; mapped MAP_SYNC (" + (deviceDax ? "a device-dax" : "a DAX file system") + ")" : "";
            if (!mapProtected) {
                return backend.id() + ": the dax range is not map_protected" + sync;
            }
            return backend.id() + ", " + faultMode.name().toLowerCase(java.util.Locale.ROOT) + ": " + strayAccesses + " stray access"
                    + (strayAccesses == 1 ? "" : "es") + (faultMode == FaultMode.STRICT ? " refused" : " granted and counted") + sync;
        }

        /** By name, for a JSON report: backend, fault_mode, map_protected, stray_accesses, map_sync. */
        public java.util.Map<String, Object> fields() {
            java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("backend", backend.id());
            m.put("fault_mode", faultMode.name().toLowerCase(java.util.Locale.ROOT));
            m.put("map_protected", mapProtected);
            m.put("stray_accesses", strayAccesses);
            m.put("map_sync", mapSync);
            m.put("device_dax", deviceDax);
            return m;
        }
    }

    /** The protection now (take it before {@link #close()}: a closed device is not map_protected). */
    public Protection protection() {
        return new Protection(options.backend, options.faultMode, mapProtected(), pgmap == null ? 0 : pgmap.strayAccesses(), mapSync,
                deviceDax);
    }

    /** {@code dax_set_readwrite}: bracket every use of a kaddr in this thread. */
    public void setReadwrite() {
        if (mapProtected()) {
            pgmap.setReadwrite();
        }
    }

    /** {@code dax_set_noaccess}. */
    public void setNoaccess() {
        if (mapProtected()) {
            pgmap.setNoaccess();
        }
    }

    /** {@code dax_synchronous}. */
    public boolean synchronous() { return options.synchronous; }

    /** {@code dax_zero_page_range}: zero pages durably (brackets its own access). */
    public void zeroPageRange(long pgoff, long nrPages) {
        DirectAccess da = directAccess(pgoff, nrPages);
        if (da.pages() != nrPages && options.maxPagesPerCall == 0) {
            throw new IllegalArgumentException("zero range beyond the device: pgoff=" + pgoff + ", nrPages=" + nrPages);
        }
        setReadwrite();
        try {
            accessor.zero(pgoff * PAGE_SIZE, Math.min(nrPages, size / PAGE_SIZE - pgoff) * PAGE_SIZE);
            accessor.drain();
        } finally {
            setNoaccess();
        }
    }

    /** The door to this device's mapping (subject to the pgmap's protection). */
    public DaxAccessor accessor() { return accessor; }

    public long size() { return size; }
    public Path path() { return path; }
    public Options options() { return options; }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("dax device closed: " + path);
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            pgmap.keys().detach();
            Posix.munmap(address, size);
        }
    }
}
