package dev.dmwc.writecache.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * A device made as slow as a real one, in wall-clock time. The data itself goes to the wrapped
 * device. Two kinds of model:
 * <ul>
 * <li>a flash device (no rotation): each request pays the model's access latency (a seek, unless
 * it starts where the previous one ended) and its transfer time at the model's bandwidth.
 * Transfers are serialized, as on one channel; latencies of concurrent requests overlap, as
 * with a queue. A flush completes the flush latency after every transfer before it; a FUA write
 * adds the flush latency to its own;
 * <li>a disk (a rotation time: {@code hdd}, or {@code rpm=}): one actuator serves one request at a
 * time, seeks grow with distance, queued requests are served in ascending order of sector from
 * the head (a one-way elevator), and a write cache takes writes that are not FUA
 * ({@link DiskArm}). A FUA write goes to the media before it completes; a flush writes out the
 * cache, then takes the flush latency, and the arm starts nothing else until it has completed; a
 * discard costs nothing.
 * </ul>
 * {@link Model#FILE} takes no time: {@link #wrap} hands back the device itself. Every model has a
 * queue depth, which the engine's writeback keeps in flight.
 */
public final class ThrottledBlockDevice implements BlockDevice {
    /**
     * A device model: random-access latency (a disk's average seek), sequential latency, bandwidth
     * (a disk's media rate), flush latency, and a disk's rotation time (0 for flash), write cache
     * (0: write-through) and size (0: the device is the whole disk; else it sits at the start of a
     * disk of this size, and seeks are fractions of that disk's stroke); and its queue depth, the
     * requests it takes at once: the engine keeps at most that many writeback I/Os in flight to it
     * ({@code ThreadedScheduler}), as the kernel's bios wait for a free tag of the device's queue.
     */
    public record Model(String name, long seekNanos, long sequentialNanos, long bytesPerSecond, long flushNanos,
            long rotationNanos, long cacheBytes, long diskBytes, int queueDepth) {
        /** A disk's queue: SATA's NCQ. */
        public static final int DISK_QUEUE_DEPTH = 32;
        /** A flash device's queue: blk-mq's default for a loop or nbd device (the kernel oracle's origin is a loop device). */
        public static final int FLASH_QUEUE_DEPTH = 128;
        /** An unthrottled file's: the I/O threads only copy, and more of them would only compete for the CPUs. */
        public static final int FILE_QUEUE_DEPTH = 32;
        private static final int MAX_QUEUE_DEPTH = 4096;
        private static final Model HDD = new Model("hdd", 8_000_000L, 0L, 150_000_000L, 1_000_000L, rotation(7200), 32L << 20, 0L,
                DISK_QUEUE_DEPTH);
        private static final Model SSD = new Model("ssd", 80_000L, 20_000L, 500_000_000L, 1_000_000L, 0L, 0L, 0L, FLASH_QUEUE_DEPTH);
        /** No throttling: the device is as fast as its file. Only its queue depth means anything. */
        public static final Model FILE = new Model("file", 0L, 0L, 0L, 0L, 0L, 0L, 0L, FILE_QUEUE_DEPTH);

        /**
         * {@code hdd}, {@code ssd}, {@code file} (no throttling: {@link #FILE}; {@code file,depth=N}),
         * {@code latency=5ms,bandwidth=100M[,flush=2ms][,rpm=7200[,cache=32M][,size=4T]][,depth=N]}
         * ({@code rpm} makes it a disk, {@code latency} its average seek; {@code cache} its write
         * cache, none unless given; {@code size} the disk the device sits at the start of;
         * {@code depth} its queue depth, {@value #DISK_QUEUE_DEPTH} for a disk and
         * {@value #FLASH_QUEUE_DEPTH} for flash unless given), or {@code hdd,KEY=VALUE...} /
         * {@code ssd,KEY=VALUE...}: that model with those keys changed (e.g. {@code hdd,size=4T},
         * {@code ssd,depth=32}).
         */
        public static Model parse(String spec) {
            String s = spec.trim().toLowerCase(Locale.ROOT);
            switch (s) {
                case "hdd":
                    return HDD;
                case "ssd":
                    return SSD;
                case "file":
                    return FILE;
                default:
                    break;
            }
            if (s.startsWith("file,")) {
                String rest = s.substring("file,".length());
                if (!rest.startsWith("depth=") || rest.contains(",")) {
                    throw new IllegalArgumentException(modelError(spec, "file is not throttled: depth= is all it takes"));
                }
                return new Model("file", 0L, 0L, 0L, 0L, 0L, 0L, 0L, parseDepth(rest.substring("depth=".length()), spec));
            }
            String name = "custom";
            long latency = -1;
            long bandwidth = -1;
            long flush = 0;
            long rotation = 0;
            long cache = 0;
            long disk = 0;
            int depth = 0;
            long sequential = -1;
            for (Model base : new Model[] {HDD, SSD}) {
                if (s.startsWith(base.name + ",")) {
                    name = base.name;
                    latency = base.seekNanos;
                    sequential = base.sequentialNanos;
                    bandwidth = base.bytesPerSecond;
                    flush = base.flushNanos;
                    rotation = base.rotationNanos;
                    cache = base.cacheBytes;
                    s = s.substring(base.name.length() + 1);
                }
            }
            for (String part : s.split(",")) {
                int eq = part.indexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException(modelError(spec, "'" + part + "' is not key=value"));
                }
                String k = part.substring(0, eq).trim();
                String v = part.substring(eq + 1).trim();
                switch (k) {
                    case "latency" -> latency = parseDuration(v, spec);
                    case "flush" -> flush = parseDuration(v, spec);
                    case "bandwidth" -> bandwidth = parseRate(v, spec);
                    case "rpm" -> rotation = rotation(parseRpm(v, spec));
                    case "cache" -> cache = parseSize(v, spec);
                    case "size" -> disk = parseSize(v, spec);
                    case "depth" -> depth = parseDepth(v, spec);
                    default -> throw new IllegalArgumentException(modelError(spec, "unknown key '" + k + "'"));
                }
            }
            if (latency < 0 || bandwidth <= 0) {
                throw new IllegalArgumentException(modelError(spec, "latency= and bandwidth= are both needed"));
            }
            if (rotation > 0 && name.equals("ssd")) {
                throw new IllegalArgumentException(modelError(spec, "rpm= makes a disk: start from hdd, or from latency= and bandwidth="));
            }
            if (rotation > 0) {
                return new Model(name.equals("custom") ? "custom disk" : name, latency, 0L, bandwidth, flush, rotation, cache, disk,
                        depth > 0 ? depth : DISK_QUEUE_DEPTH);
            }
            if (cache > 0) {
                throw new IllegalArgumentException(modelError(spec, "cache= is a disk's write cache: it needs rpm="));
            }
            if (disk > 0) {
                throw new IllegalArgumentException(modelError(spec, "size= is the size of a disk: it needs rpm="));
            }
            // a flash device's sequential latency is its latency; ssd keeps its own, at most its latency
            long seq = sequential >= 0 ? Math.min(sequential, latency) : latency;
            return new Model(name, latency, seq, bandwidth, flush, 0L, 0L, 0L, depth > 0 ? depth : FLASH_QUEUE_DEPTH);
        }

        private static int parseDepth(String v, String spec) {
            try {
                int d = Integer.parseInt(v);
                if (d >= 1 && d <= MAX_QUEUE_DEPTH) {
                    return d;
                }
            } catch (NumberFormatException e) {
                // refused below
            }
            throw new IllegalArgumentException(modelError(spec, "'" + v + "' is not a queue depth from 1 to " + MAX_QUEUE_DEPTH));
        }

        /** Whether requests take the model's time at all ({@link #FILE} does not). */
        public boolean isThrottled() {
            return bytesPerSecond > 0;
        }

        /** Why a device of {@code deviceBytes} cannot sit on this model's disk ({@code size=}), or null. */
        public String misfit(long deviceBytes) {
            return diskBytes > 0 && diskBytes < deviceBytes ? name + ": size=" + diskBytes + " is smaller than the device ("
                    + deviceBytes + " bytes), which must fit on the disk" : null;
        }

        /** Whether this is a disk: one actuator, seeks by distance ({@link DiskArm}). */
        public boolean isDisk() {
            return rotationNanos > 0;
        }

        private static long rotation(double rpm) {
            return (long) (60e9 / rpm);
        }

        private static double parseRpm(String v, String spec) {
            try {
                double rpm = Double.parseDouble(v);
                if (rpm >= 1 && rpm <= 100_000) {
                    return rpm;
                }
            } catch (NumberFormatException e) {
                // refused below
            }
            throw new IllegalArgumentException(modelError(spec, "'" + v + "' is not a rotation speed like 5400, 7200 or 15000"));
        }

        private static String modelError(String spec, String why) {
            return "origin model '" + spec + "': " + why + " (expected hdd, ssd, file[,depth=N], "
                    + "latency=5ms,bandwidth=100M[,flush=2ms][,rpm=7200[,cache=32M][,size=4T]][,depth=N], or hdd,KEY=VALUE... / ssd,KEY=VALUE...)";
        }

        static long parseDuration(String v, String spec) {
            try {
                if (v.endsWith("us")) {
                    return (long) (Double.parseDouble(v.substring(0, v.length() - 2)) * 1e3);
                }
                if (v.endsWith("ms")) {
                    return (long) (Double.parseDouble(v.substring(0, v.length() - 2)) * 1e6);
                }
                if (v.endsWith("s")) {
                    return (long) (Double.parseDouble(v.substring(0, v.length() - 1)) * 1e9);
                }
                return (long) (Double.parseDouble(v) * 1e6); // plain number: milliseconds
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(modelError(spec, "'" + v + "' is not a duration like 5ms, 80us or 0.01s"));
            }
        }

        static long parseSize(String v, String spec) {
            if (v.equals("0")) {
                return 0;
            }
            try {
                return parseRate(v, spec);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(modelError(spec, "'" + v + "' is not a size like 0, 512K or 32M"));
            }
        }

        static long parseRate(String v, String spec) {
            String t = v.endsWith("/s") ? v.substring(0, v.length() - 2) : v;
            t = t.endsWith("b") ? t.substring(0, t.length() - 1) : t;
            long mul = 1;
            char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
            switch (last) {
                case 'k' -> mul = 1L << 10;
                case 'm' -> mul = 1L << 20;
                case 'g' -> mul = 1L << 30;
                case 't' -> mul = 1L << 40;
                default -> { }
            }
            try {
                double x = Double.parseDouble(mul == 1 ? t : t.substring(0, t.length() - 1));
                if (x <= 0) {
                    throw new NumberFormatException();
                }
                return (long) (x * mul);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(modelError(spec, "'" + v + "' is not a bandwidth like 100M or 1.5G"));
            }
        }

        @Override
        public String toString() {
            if (!isThrottled()) {
                return String.format(Locale.ROOT, "%s (as fast as the file, queue depth %d)", name, queueDepth);
            }
            if (isDisk()) {
                return String.format(Locale.ROOT, "%s (disk%s: seek %.3f ms average, %.0f rpm, %.0f MiB/s, %s, flush %.3f ms; one "
                        + "actuator, one-way elevator; queue depth %d)", name,
                        diskBytes == 0 ? "" : String.format(Locale.ROOT, " of %.0f GiB, the device at its start", diskBytes / (double) (1L << 30)),
                        seekNanos / 1e6, 60e9 / rotationNanos, bytesPerSecond / 1048576.0,
                        cacheBytes == 0 ? "no write cache" : String.format(Locale.ROOT, "%.0f MiB write cache", cacheBytes / 1048576.0),
                        flushNanos / 1e6, queueDepth);
            }
            return String.format(Locale.ROOT, "%s (seek %.3f ms, sequential %.3f ms, %.0f MiB/s, flush %.3f ms, queue depth %d)", name,
                    seekNanos / 1e6, sequentialNanos / 1e6, bytesPerSecond / 1048576.0, flushNanos / 1e6, queueDepth);
        }
    }

    private static final Runnable NOTHING = () -> { };

    private final BlockDevice inner;
    private final Model model;
    private final DiskArm arm;
    private long busyUntil;
    private long nextSector = -1;

    public ThrottledBlockDevice(BlockDevice inner, Model model) {
        if (!model.isThrottled()) {
            throw new IllegalArgumentException(model + " is not throttled: use the device itself (wrap)");
        }
        if (model.misfit(inner.sizeBytes()) != null) {
            throw new IllegalArgumentException(model.misfit(inner.sizeBytes()));
        }
        this.inner = inner;
        this.model = model;
        this.arm = model.isDisk() ? new DiskArm(model, inner.sizeBytes()) : null;
    }

    /** {@code inner} itself when {@code model} takes no time (the {@code file} model) or is null. */
    public static BlockDevice wrap(BlockDevice inner, Model model) {
        return model == null || !model.isThrottled() ? inner : new ThrottledBlockDevice(inner, model);
    }

    public Model model() {
        return model;
    }

    /**
     * A disk: a read or write waits for the arm or goes into the write cache ({@code queued} runs
     * once it is queued); a flush drains the cache.
     */
    private long diskCompletion(long sector, long bytes, boolean write, boolean fua, Runnable queued) {
        if (bytes == 0) {
            return fua ? arm.flush(System.nanoTime()) : System.nanoTime();
        }
        return arm.transfer(sector, bytes, write && !fua, queued);
    }

    /** Reserve the device for one request and return when it would have completed. */
    private long completion(long sector, long bytes, boolean flush) {
        long now = System.nanoTime();
        long transfer = bytes * 1_000_000_000L / model.bytesPerSecond;
        long access;
        synchronized (this) {
            access = bytes == 0 ? 0 : sector == nextSector ? model.sequentialNanos : model.seekNanos;
            if (bytes > 0) {
                nextSector = sector + (bytes >> SECTOR_SHIFT);
            }
            busyUntil = Math.max(busyUntil, now) + transfer;
            if (bytes == 0 && flush) {
                return busyUntil + model.flushNanos; // a flush waits for every transfer before it
            }
            // FUA: this write's own trip to stable media, overlapping with other requests
            return Math.max(busyUntil, now + access + (flush ? model.flushNanos : 0));
        }
    }

    private static void sleepUntil(long deadline) {
        for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    @Override
    public long sizeBytes() {
        return inner.sizeBytes();
    }

    @Override
    public int logicalBlockSize() {
        return inner.logicalBlockSize();
    }

    @Override
    public void read(long sector, ByteBuffer dst) throws IOException {
        long done = arm != null ? diskCompletion(sector, dst.remaining(), false, false, NOTHING) : completion(sector, dst.remaining(), false);
        inner.read(sector, dst);
        sleepUntil(done);
    }

    @Override
    public void write(long sector, ByteBuffer src, boolean fua) throws IOException {
        write(sector, src, fua, NOTHING);
    }

    @Override
    public void write(long sector, ByteBuffer src, boolean fua, Runnable queued) throws IOException {
        long done;
        if (arm != null) {
            done = diskCompletion(sector, src.remaining(), true, fua, queued);
        } else {
            done = completion(sector, src.remaining(), fua);
            queued.run();
        }
        inner.write(sector, src, fua);
        sleepUntil(done);
    }

    @Override
    public void flush() throws IOException {
        long done = arm != null ? diskCompletion(-1, 0, false, true, NOTHING) : completion(-1, 0, true);
        inner.flush();
        sleepUntil(done);
    }

    @Override
    public void discard(long sector, long nSectors) throws IOException {
        long done = arm != null ? diskCompletion(-1, 0, false, false, NOTHING) : completion(-1, 0, false);
        inner.discard(sector, nSectors);
        sleepUntil(done);
    }

    @Override
    public String name() {
        return inner.name();
    }

    /** A disk model serves its queue by head position; a flash model's latencies overlap. */
    @Override
    public boolean orderSensitive() {
        return arm != null;
    }

    /** The wrapped device's pages; no device time is charged (faulting pages in is not I/O). */
    @Override
    public void touchAllPages() throws IOException {
        inner.touchAllPages();
    }

    @Override
    public void close() throws IOException {
        if (arm != null) {
            arm.close();
        }
        inner.close();
    }
}
