package dev.dmwc.writecache.target;

import dev.dmwc.writecache.engine.DmError;
import dev.dmwc.writecache.engine.WritecacheConfig;
import java.math.BigInteger;
import java.util.List;

/**
 * Argument parsing of {@code writecache_ctr()}: {@code <p|s> <origin> <cache> <block size>
 * <#features> [features...]}, in the kernel's order and with its error texts. Device names are
 * resolved by the caller; this class needs only their sizes and logical block sizes.
 */
public final class TableParser {
    /** What the parser needs to know about a device a name resolves to. */
    public record DeviceInfo(long sizeBytes, int logicalBlockSize) {}

    /** Device lookup ({@code dm_get_device}): null when the name resolves to nothing. */
    public interface Resolver {
        DeviceInfo lookup(String name);
    }

    /** The parsed table: config plus the two device names. */
    public record Table(WritecacheConfig config, String origin, String cache) {}

    private static final int PAGE_SIZE = 4096;

    private TableParser() {}

    public static Table parse(List<String> argv, Resolver resolver) throws DmError {
        int[] pos = {0};
        String mode = shift(argv, pos);
        if (mode == null) {
            throw bad();
        }
        boolean pmem;
        if (mode.equalsIgnoreCase("s")) {
            pmem = false;
        } else if (mode.equalsIgnoreCase("p")) {
            pmem = true;
        } else {
            throw bad();
        }
        WritecacheConfig c = new WritecacheConfig(pmem);
        String originName = shift(argv, pos);
        if (originName == null) {
            throw bad();
        }
        DeviceInfo origin = resolver.lookup(originName);
        if (origin == null) {
            throw new DmError("ENODEV", "Origin data device lookup failed");
        }
        String cacheName = shift(argv, pos);
        if (cacheName == null) {
            throw bad();
        }
        DeviceInfo cache = resolver.lookup(cacheName);
        if (cache == null) {
            throw new DmError("ENODEV", "Cache data device lookup failed");
        }
        long memoryMapSize = cache.sizeBytes();
        String s = shift(argv, pos);
        if (s == null) {
            throw bad();
        }
        Long bs = scanUnsigned(s, 32);
        if (bs == null || !validBlockSize(bs)) {
            throw new DmError("EINVAL", "Invalid block size");
        }
        c.blockSize = (int) (long) bs;
        if (c.blockSize < origin.logicalBlockSize() || c.blockSize < cache.logicalBlockSize()) {
            throw new DmError("EINVAL", "Block size is smaller than device logical block size");
        }
        // dm_read_arg_group({0, 18, "Invalid number of feature args"})
        String n = shift(argv, pos);
        Long optParamsL = n == null ? null : scanUnsigned(n, 32);
        if (optParamsL == null || optParamsL > 18 || argv.size() - pos[0] < optParamsL) {
            throw new DmError("EINVAL", "Invalid number of feature args");
        }
        int optParams = (int) (long) optParamsL;
        int highWm = WritecacheConfig.HIGH_WATERMARK;
        int lowWm = WritecacheConfig.LOW_WATERMARK;
        while (optParams > 0) {
            String o = shift(argv, pos);
            optParams--;
            if (o.equalsIgnoreCase("start_sector") && optParams >= 1) {
                String v = shift(argv, pos);
                optParams--;
                Long x = scanUnsigned(v, 64);
                if (x == null) {
                    throw invalidOptional();
                }
                c.startSector = x;
                c.startSectorSet = true;
                if (Long.compareUnsigned(x, memoryMapSize >> 9) >= 0) {
                    throw invalidOptional();
                }
            } else if (o.equalsIgnoreCase("high_watermark") && optParams >= 1) {
                String v = shift(argv, pos);
                optParams--;
                Integer x = scanSigned(v);
                if (x == null || x < 0 || x > 100) {
                    throw invalidOptional();
                }
                highWm = x;
                c.highWmPercent = x;
                c.highWmSet = true;
            } else if (o.equalsIgnoreCase("low_watermark") && optParams >= 1) {
                String v = shift(argv, pos);
                optParams--;
                Integer x = scanSigned(v);
                if (x == null || x < 0 || x > 100) {
                    throw invalidOptional();
                }
                lowWm = x;
                c.lowWmPercent = x;
                c.lowWmSet = true;
            } else if (o.equalsIgnoreCase("writeback_jobs") && optParams >= 1) {
                String v = shift(argv, pos);
                optParams--;
                Long x = scanUnsigned(v, 32);
                if (x == null) {
                    throw invalidOptional();
                }
                c.maxWritebackJobs = (int) (long) x;
                c.maxWritebackJobsSet = true;
            } else if (o.equalsIgnoreCase("autocommit_blocks") && optParams >= 1) {
                String v = shift(argv, pos);
                optParams--;
                Long x = scanUnsigned(v, 32);
                if (x == null) {
                    throw invalidOptional();
                }
                c.autocommitBlocks = (int) (long) x;
                c.autocommitBlocksSet = true;
            } else if (o.equalsIgnoreCase("autocommit_time") && optParams >= 1) {
                String v = shift(argv, pos);
                optParams--;
                Long x = scanUnsigned(v, 32);
                if (x == null || x > 3600000) {
                    throw invalidOptional();
                }
                c.autocommitMs = x;
                c.autocommitTimeSet = true;
            } else if (o.equalsIgnoreCase("max_age") && optParams >= 1) {
                String v = shift(argv, pos);
                optParams--;
                Long x = scanUnsigned(v, 32);
                if (x == null || x > 86400000) {
                    throw invalidOptional();
                }
                c.maxAgeMs = x;
                c.maxAgeSet = true;
            } else if (o.equalsIgnoreCase("cleaner")) {
                c.cleanerSet = true;
                c.cleaner = true;
            } else if (o.equalsIgnoreCase("fua")) {
                if (!pmem) {
                    throw invalidOptional();
                }
                c.writebackFua = true;
                c.writebackFuaSet = true;
            } else if (o.equalsIgnoreCase("nofua")) {
                if (!pmem) {
                    throw invalidOptional();
                }
                c.writebackFua = false;
                c.writebackFuaSet = true;
            } else if (o.equalsIgnoreCase("metadata_only")) {
                c.metadataOnly = true;
            } else if (o.equalsIgnoreCase("pause_writeback") && optParams >= 1) {
                if (pmem) {
                    throw invalidOptional();
                }
                String v = shift(argv, pos);
                optParams--;
                Long x = scanUnsigned(v, 32);
                if (x == null || x > 60000) {
                    throw invalidOptional();
                }
                c.pauseMs = x;
                c.pauseSet = true;
            } else {
                throw invalidOptional();
            }
        }
        if (highWm < lowWm) {
            throw new DmError("EINVAL", "High watermark must be greater than or equal to low watermark");
        }
        return new Table(c, originName, cacheName);
    }

    /** The table's block size test: a power of two from 512 to the page size (4096 here). */
    public static boolean validBlockSize(long bs) {
        return bs >= 512 && bs <= PAGE_SIZE && (bs & (bs - 1)) == 0;
    }

    private static String shift(List<String> argv, int[] pos) {
        return pos[0] < argv.size() ? argv.get(pos[0]++) : null;
    }

    private static DmError bad() {
        return new DmError("EINVAL", "Bad arguments");
    }

    private static DmError invalidOptional() {
        return new DmError("EINVAL", "Invalid optional argument");
    }

    /**
     * {@code sscanf(s, "%u%c")} / {@code "%llu%c"} == 1: optional blanks, optional sign, digits,
     * nothing after. Like glibc, a minus sign negates modulo 2^64 and overflow saturates; the
     * result is truncated to {@code bits}.
     */
    static Long scanUnsigned(String s, int bits) {
        BigInteger v = scanInteger(s);
        if (v == null) {
            return null;
        }
        BigInteger max = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
        BigInteger mag = v.abs().min(max);
        BigInteger r = v.signum() < 0 ? BigInteger.ONE.shiftLeft(64).subtract(mag).and(max) : mag;
        if (bits == 32) {
            r = r.and(BigInteger.valueOf(0xffffffffL));
        }
        return r.longValue();
    }

    /** {@code sscanf(s, "%d%c")} == 1 (strtol saturating, truncated to int). */
    static Integer scanSigned(String s) {
        BigInteger v = scanInteger(s);
        if (v == null) {
            return null;
        }
        BigInteger clamped = v.max(BigInteger.valueOf(Long.MIN_VALUE)).min(BigInteger.valueOf(Long.MAX_VALUE));
        return (int) clamped.longValue();
    }

    private static BigInteger scanInteger(String s) {
        int i = 0;
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        int start = i;
        if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
            i++;
        }
        int digits = i;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            i++;
        }
        if (i == digits || i != s.length()) {
            return null;
        }
        return new BigInteger(s.substring(start, i).replace("+", ""));
    }
}
