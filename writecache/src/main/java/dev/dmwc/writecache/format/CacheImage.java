package dev.dmwc.writecache.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A read-only view of a cache image's metadata (superblock + entries) for {@code dmwc dump} and
 * {@code dmwc check}: the rules {@code writecache_ctr} and {@code writecache_resume} apply,
 * reported instead of enforced.
 */
public final class CacheImage implements AutoCloseable {
    public enum State { COMMITTED, UNCOMMITTED, FREE }

    public record Entry(long index, long originalSector, long seqCount, State state) {}

    public final Path path;
    public final long startSector;
    public final long fileBytes;
    public final int magic;
    public final int version;
    public final int blockSize;
    public final long nBlocks;
    public final long seqCount;
    private final FileChannel ch;

    private CacheImage(Path path, long startSector, FileChannel ch, ByteBuffer sb) throws IOException {
        this.path = path;
        this.startSector = startSector;
        this.ch = ch;
        this.fileBytes = ch.size();
        this.magic = sb.getInt(SuperblockLayout.MAGIC_OFFSET);
        this.version = sb.getInt(SuperblockLayout.VERSION_OFFSET);
        this.blockSize = sb.getInt(SuperblockLayout.BLOCK_SIZE_OFFSET);
        this.nBlocks = sb.getLong(SuperblockLayout.N_BLOCKS_OFFSET);
        this.seqCount = sb.getLong(SuperblockLayout.SEQ_COUNT_OFFSET);
    }

    /** Open an image; throws IOException when the file is unreadable or too short for a superblock. */
    public static CacheImage open(Path path, long startSector) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        boolean ok = false;
        try {
            long base = startSector * 512;
            if (ch.size() < base + SuperblockLayout.LENGTH) {
                throw new IOException("cache image too small for a superblock: need=" + (base + SuperblockLayout.LENGTH)
                        + ", have=" + ch.size());
            }
            ByteBuffer sb = ByteBuffer.allocate(SuperblockLayout.LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(sb, base);
            CacheImage img = new CacheImage(path, startSector, ch, sb);
            ok = true;
            return img;
        } finally {
            if (!ok) {
                ch.close();
            }
        }
    }

    /** Problems that make the kernel refuse the image at load, in its order; empty when it loads. */
    public List<String> loadProblems() {
        List<String> p = new ArrayList<>();
        if (magic == 0 && version == 0) {
            p.add("not formatted (magic and version are 0): the kernel would format it anew");
            return p;
        }
        if (magic != SuperblockLayout.MEMORY_SUPERBLOCK_MAGIC) {
            p.add(String.format("Invalid magic in the superblock: 0x%08x (expected 0x%08x)", magic,
                    SuperblockLayout.MEMORY_SUPERBLOCK_MAGIC));
            return p;
        }
        if (version != SuperblockLayout.MEMORY_SUPERBLOCK_VERSION) {
            p.add("Invalid version in the superblock: " + Integer.toUnsignedString(version));
            return p;
        }
        if (blockSize < 512 || blockSize > 4096 || (blockSize & (blockSize - 1)) != 0) {
            p.add("block size in the superblock is not a power of two in 512..4096: " + Integer.toUnsignedString(blockSize));
            return p;
        }
        if (nBlocks < 0 || nBlocks > (Long.MAX_VALUE - 64) / 16 / blockSize) {
            p.add("Overflow in size calculation: n_blocks=" + Long.toUnsignedString(nBlocks));
            return p;
        }
        long need = MemoryLayout.metadataBytes(nBlocks, blockSize) + nBlocks * blockSize;
        long have = fileBytes - startSector * 512;
        if (need > have) {
            p.add("Memory area is too small: need=" + need + ", have=" + have);
        }
        return p;
    }

    /** All entries with their state (committed iff seq_count < superblock seq_count). */
    public List<Entry> entries() throws IOException {
        List<Entry> out = new ArrayList<>();
        long base = startSector * 512 + SuperblockLayout.LENGTH;
        int chunk = 4096;
        ByteBuffer buf = ByteBuffer.allocate(chunk * EntryLayout.LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < nBlocks; i += chunk) {
            int n = (int) Math.min(chunk, nBlocks - i);
            buf.clear().limit(n * EntryLayout.LENGTH);
            long pos = base + i * EntryLayout.LENGTH;
            while (buf.hasRemaining()) {
                if (ch.read(buf, pos + buf.position()) < 0) {
                    throw new IOException("cache image ends inside the entries: entry " + (i + buf.position() / 16)
                            + ", path=" + path);
                }
            }
            for (int k = 0; k < n; k++) {
                long os = buf.getLong(k * 16);
                long sc = buf.getLong(k * 16 + 8);
                State st = Long.compareUnsigned(sc, seqCount) < 0 ? State.COMMITTED
                        : sc == -1L ? State.FREE : State.UNCOMMITTED;
                out.add(new Entry(i + k, os, sc, st));
            }
        }
        return out;
    }

    /**
     * What resume would report about the entries: "two identical entries" (it then errors), and
     * committed sectors at or beyond {@code originSectors} (when known, else -1).
     */
    public List<String> entryProblems(List<Entry> entries, long originSectors) {
        List<String> p = new ArrayList<>();
        Map<Long, Entry> newest = new HashMap<>();
        for (Entry e : entries) {
            if (e.state() != State.COMMITTED) {
                continue;
            }
            Entry old = newest.get(e.originalSector());
            if (old != null && old.seqCount() == e.seqCount()) {
                p.add(String.format("two identical entries, position %d, sector %s, sequence %s", e.index(),
                        Long.toUnsignedString(e.originalSector()), Long.toUnsignedString(e.seqCount())));
            }
            if (old == null || Long.compareUnsigned(old.seqCount(), e.seqCount()) <= 0) {
                newest.put(e.originalSector(), e);
            }
            if (originSectors >= 0 && Long.compareUnsigned(e.originalSector() + blockSize / 512, originSectors) > 0) {
                p.add(String.format("entry %d: sector %s beyond the origin (%d sectors)", e.index(),
                        Long.toUnsignedString(e.originalSector()), originSectors));
            }
        }
        return p;
    }

    public void close() throws IOException {
        ch.close();
    }
}
