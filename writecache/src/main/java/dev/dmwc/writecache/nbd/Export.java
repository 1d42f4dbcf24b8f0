package dev.dmwc.writecache.nbd;

import java.nio.ByteBuffer;

/**
 * What an NBD export serves. Offsets and lengths are in bytes and already checked against
 * {@link #size()}; every method returns 0 or an NBD errno ({@link Nbd#EIO}…) and is called from
 * many threads at once.
 */
public interface Export {
    long size();

    /** The block size to advertise as preferred. */
    int preferredBlockSize();

    /** Fill {@code dst} (its remaining bytes) from {@code offset}. */
    int read(long offset, ByteBuffer dst);

    /** Write {@code src}'s remaining bytes at {@code offset}; {@code fua}: durable on return. */
    int write(long offset, ByteBuffer src, boolean fua);

    /** Everything already acknowledged becomes durable. */
    int flush();

    int trim(long offset, long length, boolean fua);

    int writeZeroes(long offset, long length, boolean fua);
}
