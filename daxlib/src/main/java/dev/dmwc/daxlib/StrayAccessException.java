package dev.dmwc.daxlib;

/** A thread touched a protected mapping without {@code setReadwrite()} (strict fault mode). */
public final class StrayAccessException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StrayAccessException(long address, String thread, int key, String backend) {
        super(String.format("stray access to protected pmem: address=0x%x, thread=%s, key=%d, backend=%s",
                address, thread, key, backend));
    }
}
