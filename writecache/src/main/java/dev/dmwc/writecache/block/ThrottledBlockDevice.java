package dev.dmwc.writecache.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * A device made as slow as a real one, in wall-clock time: each request pays the model's access
 * latency (a seek, unless it starts where the previous one ended) and its transfer time at the
 * model's bandwidth. Transfers are serialized, as on one spindle or channel; latencies of
 * concurrent requests overlap, as with a queue. A flush completes the flush latency after every
 * transfer before it; a FUA write adds the flush latency to its own (overlapping) latency. The data
 * itself goes to the wrapped device.
 */
public final class ThrottledBlockDevice implements BlockDevice {
    /** A device model: random-access latency, sequential latency, bandwidth, flush latency. */
    public record Model(String name, long seekNanos, long sequentialNanos, long bytesPerSecond, long flushNanos) {
        /** {@code hdd}, {@code ssd}, {@code file} (no throttling) or {@code latency=5ms,bandwidth=100M[,flush=2ms]}. */
        public static Model parse(String spec) {
            String s = spec.trim().toLowerCase(Locale.ROOT);
            switch (s) {
                case "hdd":
                    return new Model("hdd", 8_000_000L, 50_000L, 150_000_000L, 10_000_000L);
                case "ssd":
                    return new Model("ssd", 80_000L, 20_000L, 500_000_000L, 1_000_000L);
                case "file":
                    return null;
                default:
                    break;
            }
            long latency = -1;
            long bandwidth = -1;
            long flush = 0;
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
                    default -> throw new IllegalArgumentException(modelError(spec, "unknown key '" + k + "'"));
                }
            }
            if (latency < 0 || bandwidth <= 0) {
                throw new IllegalArgumentException(modelError(spec, "latency= and bandwidth= are both needed"));
            }
            return new Model("custom", latency, latency, bandwidth, flush);
        }

        private static String modelError(String spec, String why) {
            return "origin model '" + spec + "': " + why + " (expected hdd, ssd, file or latency=5ms,bandwidth=100M[,flush=2ms])";
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

        static long parseRate(String v, String spec) {
            String t = v.endsWith("/s") ? v.substring(0, v.length() - 2) : v;
            t = t.endsWith("b") ? t.substring(0, t.length() - 1) : t;
            long mul = 1;
            char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
            switch (last) {
                case 'k' -> mul = 1L << 10;
                case 'm' -> mul = 1L << 20;
                case 'g' -> mul = 1L << 30;
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
            return String.format(Locale.ROOT, "%s (seek %.3f ms, sequential %.3f ms, %.0f MiB/s, flush %.3f ms)", name,
                    seekNanos / 1e6, sequentialNanos / 1e6, bytesPerSecond / 1048576.0, flushNanos / 1e6);
        }
    }

    private final BlockDevice inner;
    private final Model model;
    private long busyUntil;
    private long nextSector = -1;

    public ThrottledBlockDevice(BlockDevice inner, Model model) {
        this.inner = inner;
        this.model = model;
    }

    /** {@code inner} itself when {@code model} is null (the {@code file} model). */
    public static BlockDevice wrap(BlockDevice inner, Model model) {
        return model == null ? inner : new ThrottledBlockDevice(inner, model);
    }

    public Model model() {
        return model;
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
        long done = completion(sector, dst.remaining(), false);
        inner.read(sector, dst);
        sleepUntil(done);
    }

    @Override
    public void write(long sector, ByteBuffer src, boolean fua) throws IOException {
        long done = completion(sector, src.remaining(), fua);
        inner.write(sector, src, fua);
        sleepUntil(done);
    }

    @Override
    public void flush() throws IOException {
        long done = completion(-1, 0, true);
        inner.flush();
        sleepUntil(done);
    }

    @Override
    public void discard(long sector, long nSectors) throws IOException {
        long done = completion(-1, 0, false);
        inner.discard(sector, nSectors);
        sleepUntil(done);
    }

    @Override
    public String name() {
        return inner.name();
    }

    /** The wrapped device's pages; no device time is charged (faulting pages in is not I/O). */
    @Override
    public void touchAllPages() throws IOException {
        inner.touchAllPages();
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
