package dev.dmwc.writecache.format;

/**
 * Sizes of the metadata area and the data blocks behind it: {@code calculate_memory_size}.
 *
 * <pre>
 * metadata_bytes = round_up(64 + 16 * n_blocks, block_size)
 * data block i   = byte metadata_bytes + i * block_size (from start_sector * 512)
 * </pre>
 */
public final class MemoryLayout {
    /** e->index is a 47-bit bitfield on 64-bit kernels. */
    public static final long MAX_INDEX_BITS = 47;

    /** {@code -ENOSPC}/{@code -EFBIG} of calculate_memory_size. */
    public static final class SizeException extends Exception {
        private static final long serialVersionUID = 1L;
        public final String errno;

        SizeException(String errno, String message) {
            super(message);
            this.errno = errno;
        }
    }

    public final long nBlocks;
    public final long nMetadataBlocks;
    public final int blockSize;

    private MemoryLayout(long nBlocks, long nMetadataBlocks, int blockSize) {
        this.nBlocks = nBlocks;
        this.nMetadataBlocks = nMetadataBlocks;
        this.blockSize = blockSize;
    }

    /** Port of {@code calculate_memory_size()}: the most blocks that fit in {@code deviceSize} bytes. */
    public static MemoryLayout calculate(long deviceSize, int blockSize) throws SizeException {
        long nBlocks = Long.divideUnsigned(deviceSize, blockSize + EntryLayout.LENGTH);
        long offset;
        while (true) {
            if (nBlocks == 0) {
                throw new SizeException("ENOSPC", "no room for a single block: device size " + deviceSize);
            }
            if (Long.compareUnsigned(nBlocks, Long.divideUnsigned(-1L - SuperblockLayout.LENGTH, EntryLayout.LENGTH)) >= 0) {
                throw new SizeException("EFBIG", "too many blocks: " + nBlocks);
            }
            offset = metadataBytes(nBlocks, blockSize);
            if (offset + nBlocks * blockSize <= deviceSize) {
                break;
            }
            nBlocks--;
        }
        if (nBlocks >= (1L << MAX_INDEX_BITS)) {
            throw new SizeException("EFBIG", "n_blocks does not fit the entry index: " + nBlocks);
        }
        return new MemoryLayout(nBlocks, offset / blockSize, blockSize);
    }

    /** {@code round_up(64 + 16 * nBlocks, blockSize)}. */
    public static long metadataBytes(long nBlocks, int blockSize) {
        long raw = SuperblockLayout.LENGTH + EntryLayout.LENGTH * nBlocks;
        return (raw + blockSize - 1) / blockSize * blockSize;
    }
}
