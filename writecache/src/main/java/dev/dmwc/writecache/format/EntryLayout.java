package dev.dmwc.writecache.format;

/**
 * {@code struct wc_memory_entry}: 16 bytes per cache block, entry {@code i} at byte
 * {@code 64 + 16*i} of the metadata area, little-endian.
 *
 * <pre>
 *  0                               8                               16
 *  +-------------------------------+-------------------------------+
 *  | original_sector (u64)         | seq_count (u64)               |
 *  +-------------------------------+-------------------------------+
 * </pre>
 * A free entry has {@code seq_count = -1}; {@code init_memory} writes both fields as -1.
 */
public final class EntryLayout {
    public static final int ORIGINAL_SECTOR_OFFSET = 0;
    public static final int SEQ_COUNT_OFFSET = 8;
    public static final int LENGTH = 16;
    /** All ones: the erased value of both fields. */
    public static final long ERASED = -1L;

    private EntryLayout() {}

    /** Byte offset of entry {@code index} from the start of the metadata area. */
    public static long offset(long index) {
        return SuperblockLayout.LENGTH + (long) LENGTH * index;
    }
}
