package dev.dmwc.writecache.cli;

import dev.dmwc.daxlib.DeviceDax;
import dev.dmwc.writecache.block.ScratchFiles;
import dev.dmwc.writecache.format.EntryLayout;
import dev.dmwc.writecache.format.SuperblockLayout;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Device images opened for reading ({@code dump}, {@code check}): a gzip-compressed image, as the
 * kernel's images are kept in {@code ../shared/kernel} and {@code test-data/kernel}, is inflated
 * first into a sparse scratch copy, removed when done. A device-dax, which has no read(2), is
 * copied too, its superblock and entries only (all that dump and check read; a device can be
 * hundreds of GiB), into a sparse file of its size. The given file is never written.
 */
final class ImageFiles {
    private ImageFiles() {
    }

    /** The file to read for {@code given}: itself, or its inflated copy. Close to remove the copy. */
    record Readable(Path given, Path path, boolean inflated) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            if (inflated) {
                ScratchFiles.delete(path);
            }
        }
    }

    /**
     * Opens {@code given} for reading; an IOException names why it cannot be read (no such file, a
     * directory, permission denied, corrupt gzip data), with the path.
     */
    static Readable open(Path given, long startSector) throws IOException {
        refuseNonImage(given);
        if (DeviceDax.is(given)) {
            warnIfInUse(given);
            long metadata = metadataEnd(given, startSector);
            return scratchCopy(given, copy -> DeviceDax.copySparse(given, copy, metadata));
        }
        byte[] head = new byte[2];
        int n;
        try (InputStream in = Files.newInputStream(given)) {
            n = in.readNBytes(head, 0, 2);
        } catch (NoSuchFileException e) {
            throw new IOException(given + ": no such file", e);
        } catch (AccessDeniedException e) {
            throw new IOException(given + ": permission denied", e);
        }
        if (n < 2 || (head[0] & 0xff) != 0x1f || (head[1] & 0xff) != 0x8b) {
            warnIfInUse(given);
            return new Readable(given, given, false);
        }
        return scratchCopy(given, copy -> inflateSparse(given, copy));
    }

    /**
     * Where the superblock at {@code startSector} and the entries its {@code n_blocks} counts end
     * on the device-dax {@code given} (its size at most: a corrupt count is the image's problem,
     * which {@code CacheImage} reports).
     */
    private static long metadataEnd(Path given, long startSector) throws IOException {
        long size = DeviceDax.size(given);
        long end = startSector * 512 + SuperblockLayout.LENGTH;
        if (end > size) {
            return size;
        }
        long nBlocks = ByteBuffer.wrap(DeviceDax.read(given, startSector * 512, SuperblockLayout.LENGTH)).order(ByteOrder.LITTLE_ENDIAN)
                .getLong(SuperblockLayout.N_BLOCKS_OFFSET);
        return nBlocks < 0 || nBlocks > (size - end) / EntryLayout.LENGTH ? size : end + nBlocks * EntryLayout.LENGTH;
    }

    /** Read all the same: the state of a live cache is worth seeing. */
    private static void warnIfInUse(Path given) {
        if (dev.dmwc.daxlib.DeviceLock.inUse(given)) {
            System.err.println("dmwc: warning: " + given + " is in use by a running dmwc (a serve, replay or bench on it): "
                    + "it may change while it is read, and what is not committed yet is not on it");
        }
    }

    private interface Filler {
        void fill(Path copy) throws IOException;
    }

    /** A sparse scratch copy of {@code given} made by {@code filler}, removed at close (or now, if filling fails). */
    private static Readable scratchCopy(Path given, Filler filler) throws IOException {
        Path dir = ScratchFiles.defaultDir();
        Path copy = ScratchFiles.createFile(dir, "inflated", ".img");
        boolean ok = false;
        try {
            filler.fill(copy);
            ok = true;
            return new Readable(given, copy, true);
        } finally {
            if (!ok) {
                ScratchFiles.delete(copy);
            }
        }
    }

    /** Inflates {@code gz} into {@code out}, leaving holes where whole 64 KiB chunks are zero. */
    private static void inflateSparse(Path gz, Path out) throws IOException {
        byte[] chunk = new byte[1 << 16];
        long length = 0;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz), 1 << 16);
                RandomAccessFile raf = new RandomAccessFile(out.toFile(), "rw");
                FileChannel ch = raf.getChannel()) {
            while (true) {
                int got = in.readNBytes(chunk, 0, chunk.length);
                if (got == 0) {
                    break;
                }
                if (!dev.dmwc.daxlib.SparseFiles.allZero(chunk, got)) {
                    ch.write(ByteBuffer.wrap(chunk, 0, got), length);
                }
                length += got;
            }
            raf.setLength(length);
        } catch (ZipException | EOFException e) {
            throw new IOException(gz + ": truncated or corrupt gzip data (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Refuses a device file given to a command that writes it ({@code option}: {@code --origin} or
     * {@code --cache}) when it is a gzip file ({@code .gz}, gzip's magic): it would be used, and
     * overwritten, as the compressed bytes. {@code null} and missing files pass.
     */
    static void refuseCompressed(Path file, String option) throws IOException {
        if (file == null || !file.getFileName().toString().endsWith(".gz") || !Files.isRegularFile(file)) {
            return;
        }
        byte[] head = new byte[2];
        try (InputStream in = Files.newInputStream(file)) {
            if (in.readNBytes(head, 0, 2) == 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
                throw new Main.UsageError(option + " " + file + ": gzip-compressed; a device image is used in place: gunzip it first "
                        + "(dump and check read it as it is)");
            }
        }
    }

    /** A directory, a FIFO (whose reading would wait for a writer), a character device (but a device-dax): not an image. */
    private static void refuseNonImage(Path given) throws IOException {
        if (Files.isDirectory(given)) {
            throw new IOException(given + ": is a directory");
        }
        if (Files.exists(given) && !Files.isRegularFile(given) && !dev.dmwc.writecache.block.DeviceFiles.isBlockDevice(given)
                && !DeviceDax.is(given)) {
            throw new IOException(given + ": neither a regular file nor a block device");
        }
    }

    /** The size of the image {@code given} holds (inflated, for a gzip file). */
    static long size(Path given) throws IOException {
        refuseNonImage(given);
        if (DeviceDax.is(given)) {
            return DeviceDax.size(given);
        }
        byte[] head = new byte[2];
        try (InputStream in = Files.newInputStream(given)) {
            if (in.readNBytes(head, 0, 2) < 2 || (head[0] & 0xff) != 0x1f || (head[1] & 0xff) != 0x8b) {
                return dev.dmwc.writecache.block.DeviceFiles.size(given);
            }
        } catch (NoSuchFileException e) {
            throw new IOException(given + ": no such file", e);
        } catch (AccessDeniedException e) {
            throw new IOException(given + ": permission denied", e);
        }
        try (InputStream in = new GZIPInputStream(Files.newInputStream(given), 1 << 16)) {
            return in.transferTo(java.io.OutputStream.nullOutputStream());
        } catch (ZipException | EOFException e) {
            throw new IOException(given + ": truncated or corrupt gzip data (" + e.getMessage() + ")", e);
        }
    }
}
