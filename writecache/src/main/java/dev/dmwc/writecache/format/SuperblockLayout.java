package dev.dmwc.writecache.format;

/**
 * {@code struct wc_memory_superblock}: 64 bytes at byte {@code start_sector * 512} of the cache
 * device, all fields little-endian.
 *
 * <pre>
 *  0               4               8               12              16
 *  +---------------+---------------+---------------+---------------+
 *  | magic         | version       | block_size    | pad           |
 *  +---------------+---------------+---------------+---------------+
 *  | n_blocks (u64)                | seq_count (u64)               |  16..31
 *  +-------------------------------+-------------------------------+
 *  | padding: zero after init_memory                                |  32..63
 *  +---------------------------------------------------------------+
 *  entries[] follow at byte 64 (see EntryLayout)
 * </pre>
 */
public final class SuperblockLayout {
    public static final int MEMORY_SUPERBLOCK_MAGIC = 0x23489321;
    public static final int MEMORY_SUPERBLOCK_VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int BLOCK_SIZE_OFFSET = 8;
    public static final int PAD_OFFSET = 12;
    public static final int N_BLOCKS_OFFSET = 16;
    public static final int SEQ_COUNT_OFFSET = 24;
    public static final int LENGTH = 64;

    private SuperblockLayout() {}
}
