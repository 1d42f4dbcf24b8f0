package dev.dmwc.writecache.block;

import java.io.IOException;
import java.nio.ByteBuffer;

/** A block device in a heap array (tests, models). Up to 2 GiB − 512. */
public final class MemoryBlockDevice implements BlockDevice {
    private final byte[] data;
    private final String name;

    public MemoryBlockDevice(String name, long size) {
        if (size <= 0 || size % SECTOR_SIZE != 0 || size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("memory device size must be a positive multiple of 512 below 2 GiB: " + size);
        }
        this.name = name;
        this.data = new byte[(int) size];
    }

    @Override
    public long sizeBytes() {
        return data.length;
    }

    @Override
    public synchronized void read(long sector, ByteBuffer dst) throws IOException {
        BlockDevice.checkRange(this, sector, dst.remaining());
        dst.put(data, (int) (sector << SECTOR_SHIFT), dst.remaining());
    }

    @Override
    public synchronized void write(long sector, ByteBuffer src, boolean fua) throws IOException {
        BlockDevice.checkRange(this, sector, src.remaining());
        src.get(data, (int) (sector << SECTOR_SHIFT), src.remaining());
    }

    @Override
    public void flush() {}

    @Override
    public synchronized void discard(long sector, long nSectors) throws IOException {
        BlockDevice.checkRange(this, sector, nSectors << SECTOR_SHIFT);
        java.util.Arrays.fill(data, (int) (sector << SECTOR_SHIFT), (int) ((sector + nSectors) << SECTOR_SHIFT), (byte) 0);
    }

    /** A copy of the contents. */
    public synchronized byte[] snapshot() {
        return data.clone();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void close() {}
}
