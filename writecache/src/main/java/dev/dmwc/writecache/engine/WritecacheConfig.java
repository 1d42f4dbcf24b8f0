package dev.dmwc.writecache.engine;

/**
 * The parsed table line: mode, block size and every feature argument with its "was it given"
 * flag (the table output prints only those). Defaults are the kernel's for the mode.
 */
public final class WritecacheConfig {
    public static final int HIGH_WATERMARK = 50;
    public static final int LOW_WATERMARK = 45;
    public static final int AUTOCOMMIT_BLOCKS_SSD = 65536;
    public static final int AUTOCOMMIT_BLOCKS_PMEM = 64;
    public static final int AUTOCOMMIT_MSEC = 1000;
    public static final long MAX_AGE_UNSPECIFIED = -1L;
    public static final int PAUSE_WRITEBACK_MS = 3000;

    /**
     * {@code MAX_WRITEBACK_JOBS = min(0x10000000 / PAGE_SIZE, totalram_pages() / 16)}, with this
     * JVM's maximum heap standing in for the machine's RAM.
     */
    public static int defaultMaxWritebackJobs() {
        long pages = Runtime.getRuntime().maxMemory() / 4096;
        return (int) Math.min(0x10000000L / 4096, Math.max(1, pages / 16));
    }

    public boolean pmemMode;
    public int blockSize;
    public long startSector;
    public boolean startSectorSet;
    public int highWmPercent = HIGH_WATERMARK;
    public boolean highWmSet;
    public int lowWmPercent = LOW_WATERMARK;
    public boolean lowWmSet;
    /** Unsigned 32-bit; 0 = unlimited. */
    public int maxWritebackJobs = defaultMaxWritebackJobs();
    public boolean maxWritebackJobsSet;
    /** Unsigned 32-bit. */
    public int autocommitBlocks;
    public boolean autocommitBlocksSet;
    public long autocommitMs = AUTOCOMMIT_MSEC;
    public boolean autocommitTimeSet;
    public long maxAgeMs = MAX_AGE_UNSPECIFIED;
    public boolean maxAgeSet;
    public boolean cleaner;
    public boolean cleanerSet;
    public boolean writebackFua;
    public boolean writebackFuaSet;
    public boolean metadataOnly;
    public long pauseMs;
    public boolean pauseSet;

    public WritecacheConfig(boolean pmemMode) {
        this.pmemMode = pmemMode;
        this.writebackFua = pmemMode;
        this.autocommitBlocks = pmemMode ? AUTOCOMMIT_BLOCKS_PMEM : AUTOCOMMIT_BLOCKS_SSD;
        this.pauseMs = pmemMode ? 0 : PAUSE_WRITEBACK_MS;
    }

    /** The feature arguments as STATUSTYPE_TABLE prints them, in the kernel's fixed order. */
    public String tableFeatures() {
        StringBuilder sb = new StringBuilder();
        int n = 0;
        if (startSectorSet) { sb.append(" start_sector ").append(Long.toUnsignedString(startSector)); n += 2; }
        if (highWmSet) { sb.append(" high_watermark ").append(highWmPercent); n += 2; }
        if (lowWmSet) { sb.append(" low_watermark ").append(lowWmPercent); n += 2; }
        if (maxWritebackJobsSet) { sb.append(" writeback_jobs ").append(Integer.toUnsignedString(maxWritebackJobs)); n += 2; }
        if (autocommitBlocksSet) { sb.append(" autocommit_blocks ").append(Integer.toUnsignedString(autocommitBlocks)); n += 2; }
        if (autocommitTimeSet) { sb.append(" autocommit_time ").append(autocommitMs); n += 2; }
        if (maxAgeSet) { sb.append(" max_age ").append(maxAgeMs); n += 2; }
        if (cleanerSet) { sb.append(" cleaner"); n++; }
        if (writebackFuaSet) { sb.append(writebackFua ? " fua" : " nofua"); n++; }
        if (metadataOnly) { sb.append(" metadata_only"); n++; }
        if (pauseSet) { sb.append(" pause_writeback ").append(pauseMs); n += 2; }
        return n + sb.toString();
    }
}
