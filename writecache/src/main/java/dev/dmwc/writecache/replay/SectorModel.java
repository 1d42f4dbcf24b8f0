package dev.dmwc.writecache.replay;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What the logical device must hold: a version per 512-byte sector (0 = zeros: never written).
 * Payloads encode (sector, version) in every 16 bytes, so a read says exactly which write it
 * returns.
 *
 * <p>A discarded sector is stored as {@code -v} (v its version before): it may read as zeros or
 * as its own payload of any version up to v, until it is written again. dm-writecache's discard
 * frees the cache's entries but skips those under writeback ({@code writecache_discard} tests
 * {@code write_in_progress}) and sends the discard to the origin at once: such an entry still
 * answers reads until its writeback ends, and its write can reach the origin after the discard
 * did (RELIABILITY.md: a discarded block's contents are undefined).
 */
final class SectorModel {
    private final long[] version;

    SectorModel(long sectors) {
        if (sectors > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("--verify keeps 8 bytes per sector: " + sectors
                    + " sectors is too many; replay a --volume, or use --no-data");
        }
        version = new long[(int) sectors];
    }

    long get(long sector) {
        return version[(int) sector];
    }

    void set(long sector, long nSectors, long v) {
        java.util.Arrays.fill(version, (int) sector, (int) (sector + nSectors), v);
    }

    /** A discard of {@code [sector, sector + nSectors)}: zeros, or any version the sector had. */
    void discard(long sector, long nSectors) {
        for (int s = (int) sector, end = (int) (sector + nSectors); s < end; s++) {
            if (version[s] > 0) {
                version[s] = -version[s];
            }
        }
    }

    /** What sector {@code sector} should hold, for a report. */
    String expected(long sector) {
        long v = get(sector);
        return v > 0 ? "version " + v : v == 0 ? "zeros" : "zeros or a version up to " + -v + " (discarded)";
    }

    /** The version sector {@code s} of {@code buf} holds (0 for zeros); only for a sector that passed {@link #check}. */
    static long versionIn(ByteBuffer buf, int s) {
        return buf.order(ByteOrder.LITTLE_ENDIAN).getLong(s * 512 + 8);
    }

    /** Fill {@code buf} (from position 0, {@code nSectors} sectors) with the payload of those sectors. */
    static void fill(ByteBuffer buf, long firstSector, long nSectors, long[] versions, int vOff) {
        java.nio.LongBuffer out = buf.duplicate().clear().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
        long[] sector = new long[64];
        for (int s = 0; s < nSectors; s++) {
            pattern(sector, firstSector + s, versions[vOff + s]);
            out.put(sector);
        }
    }

    /** {@link #fill} when every sector has the same version (a write aligned to the cache block). */
    static void fill(ByteBuffer buf, long firstSector, long nSectors, long version) {
        java.nio.LongBuffer out = buf.duplicate().clear().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
        long[] sector = new long[64];
        pattern(sector, firstSector, version);
        for (int s = 0; s < nSectors; s++) {
            if (s > 0 && version != 0) {
                long a = firstSector + s;
                for (int i = 0; i < 64; i += 2) {
                    sector[i] = a; // the odd words hold the version already
                }
            }
            out.put(sector);
        }
    }

    /**
     * One sector's payload, built in a heap array and copied out whole (a bulk put is one copy;
     * 64 buffer stores per sector were a fifth of a data-mode replay): [sector, version] 32 times,
     * or zeros for version 0.
     */
    private static void pattern(long[] words, long sector, long v) {
        long a = v == 0 ? 0 : sector;
        for (int i = 0; i < 64; i += 2) {
            words[i] = a;
            words[i + 1] = v;
        }
    }

    /**
     * Check sectors {@code [from, from+n)} of a read that started at {@code firstSector}: each must
     * hold its expected version. Returns the index of the first wrong sector, or -1.
     */
    int check(ByteBuffer buf, long firstSector, int from, int n) {
        ByteBuffer b = buf.order(ByteOrder.LITTLE_ENDIAN);
        for (int s = from; s < from + n; s++) {
            long sector = firstSector + s;
            long v = get(sector);
            int p = s * 512;
            if (v < 0) {
                // discarded: zeros, or one version up to -v, whole
                long held = b.getLong(p + 8);
                boolean zeros = b.getLong(p) == 0 && held == 0;
                if (!zeros && (b.getLong(p) != sector || held < 1 || held > -v)) {
                    return s;
                }
                v = held;
            }
            if (v == 0) {
                for (int i = 0; i < 64; i++, p += 8) {
                    if (b.getLong(p) != 0) {
                        return s;
                    }
                }
                continue;
            }
            for (int i = 0; i < 32; i++, p += 16) {
                if (b.getLong(p) != sector || b.getLong(p + 8) != v) {
                    return s;
                }
            }
        }
        return -1;
    }

    /** What a wrong sector holds, for the report: "sector S version V", "zeros" or "foreign data". */
    static String describe(ByteBuffer buf, int s) {
        ByteBuffer b = buf.order(ByteOrder.LITTLE_ENDIAN);
        long sec = b.getLong(s * 512);
        long v = b.getLong(s * 512 + 8);
        boolean zero = true;
        for (int i = 0; i < 64 && zero; i++) {
            zero = b.getLong(s * 512 + i * 8) == 0;
        }
        return zero ? "zeros" : "sector " + sec + " version " + v;
    }
}
