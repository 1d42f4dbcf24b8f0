package dev.dmwc.writecache.block;

import dev.dmwc.daxlib.SparseFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The files a run makes for itself (scratch devices, images under test, sockets) and removes when it
 * ends. A file registered here is also removed when the JVM is stopped by SIGINT or SIGTERM: one
 * shutdown hook deletes whatever is still registered, files before the directories that hold them.
 *
 * <p>Unlike {@link java.io.File#deleteOnExit()}, a file that is deleted or kept is forgotten: a
 * crash test that makes two files per workload for an hour holds only the current ones, and a file
 * the user asked to keep ({@code replay --keep}) is not removed at a normal exit either.
 *
 * <p>The JVM halts its other threads wherever they are once the hook returns, so a worker still
 * making its next case must not leave a file made after the hook: files are made and written under
 * the registry's lock, and once the hook has begun that refuses with an {@link IOException}. A path
 * registered after the hook (made by other means) is deleted at once.
 */
public final class ScratchFiles {
    private static final ScratchFiles RUN = new ScratchFiles();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(RUN::deleteAll, "dmwc-scratch-files"));
    }

    private final Set<Path> live = new HashSet<>();
    private boolean stopping;

    /** A registry of its own (tests); the run's is behind the static methods. */
    ScratchFiles() {
    }

    /** Registers a file or directory (made or about to be) for removal at exit; returns it. */
    public static Path register(Path p) {
        RUN.add(p);
        return p;
    }

    /**
     * What a run names its scratch files by: {@code dmwc-PID-KIND-…}, so that {@link #removeStale} can tell
     * that a file is dmwc's and whether its process is gone. A kind not listed here would make a file no
     * later run could sweep, so it is refused.
     */
    private static final List<String> KINDS = List.of("replay", "stdin", "crash", "crash-rec", "fuzz", "stress", "inflated",
            "nbdfuzz", "bench-copy");

    private static String prefix(String kind) {
        if (!KINDS.contains(kind)) {
            throw new IllegalArgumentException("not a kind of scratch file: " + kind);
        }
        return devicePrefix() + kind + "-";
    }

    /** Where scratch devices go by default: /dev/shm (memory), else the temporary directory. */
    public static Path defaultDir() {
        return Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
    }

    /**
     * A new empty file {@code dmwc-PID-KIND-N…SUFFIX} in {@code dir} ({@link Files#createTempFile}), registered.
     * The first file made in a directory sweeps it first ({@link #sweep}).
     */
    public static Path createFile(Path dir, String kind, String suffix) throws IOException {
        String prefix = prefix(kind);
        sweep(dir);
        return RUN.make(() -> Files.createTempFile(dir, prefix, suffix));
    }

    /** A new empty directory {@code dmwc-PID-KIND-N} in {@code dir} ({@link Files#createTempDirectory}), registered; see {@link #createFile}. */
    public static Path createDirectory(Path dir, String kind) throws IOException {
        String prefix = prefix(kind);
        sweep(dir);
        return RUN.make(() -> Files.createTempDirectory(dir, prefix));
    }

    /** {@link Files#write(Path, byte[], java.nio.file.OpenOption...)} of a scratch file, which is registered. */
    public static void write(Path p, byte[] data) throws IOException {
        RUN.make(() -> Files.write(p, data));
    }

    /**
     * dmwc's scratch files, named by the process that made them: the devices of {@code serve} and
     * {@code bench} ({@code dmwc-PID-origin.img}, {@code dmwc-PID-cache.img}, {@code dmwc-PID-bench-copyN.img})
     * and what {@link #createFile} and {@link #createDirectory} make ({@code dmwc-PID-KIND-N…}).
     */
    private static final java.util.regex.Pattern SCRATCH = java.util.regex.Pattern.compile(
            "dmwc-(\\d+)-(origin\\.img|cache\\.img|bench-copy\\d*\\.img|(" + String.join("|", KINDS) + ")-\\d+.*)");

    /** The directories swept by this process already ({@link #sweep}). */
    private static final Set<Path> SWEPT = new HashSet<>();

    /**
     * {@link #removeStale} of {@code dir}, once a process, saying on standard error what went: called before a run makes
     * its own files there, and before it checks the space they need, since the stale files' space counts.
     */
    public static void sweep(Path dir) {
        synchronized (SWEPT) {
            if (!SWEPT.add(dir.toAbsolutePath().normalize())) {
                return;
            }
        }
        for (String line : removeStale(dir)) {
            System.err.println("dmwc: removed " + line);
        }
    }

    /** The name prefix of this process's scratch devices ({@link #removeStale}). */
    public static String devicePrefix() {
        return "dmwc-" + ProcessHandle.current().pid() + "-";
    }

    /**
     * Removes the scratch files in {@code dir} whose process is gone: one killed with SIGKILL (or lost
     * with its machine's power) ran no exit hook, and left up to gigabytes in /dev/shm, which is memory.
     * A scratch directory goes with its files when it holds nothing else. Files of a process still
     * alive are kept, whatever that process is now, and so are devices a dmwc holds open (its lock):
     * a process in another PID namespace sharing the directory looks gone from here. So is every name
     * dmwc does not make. Returns a line per file or directory removed, for the caller to say.
     */
    public static List<String> removeStale(Path dir) {
        List<String> removed = new ArrayList<>();
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                java.util.regex.Matcher m = SCRATCH.matcher(p.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                long pid;
                try {
                    pid = Long.parseLong(m.group(1));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).isPresent()) {
                    continue;
                }
                try {
                    long bytes = removeScratch(p);
                    if (bytes >= 0) {
                        removed.add(String.format(java.util.Locale.ROOT, "%s (%,d MiB), left by dmwc process %d, which is gone", p,
                                bytes >> 20, pid));
                    }
                } catch (IOException | UncheckedIOException e) {
                    // another process removed it first, or it is not ours to remove: left as it is
                }
            }
        } catch (IOException | UncheckedIOException e) {
            // an unreadable directory: nothing to sweep
        }
        return removed;
    }

    /**
     * Deletes a regular file, or a directory of regular files (links not followed), and returns the bytes
     * it held; -1, with nothing deleted, for anything else.
     */
    private static long removeScratch(Path p) throws IOException {
        java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class,
                java.nio.file.LinkOption.NOFOLLOW_LINKS);
        if (a.isRegularFile()) {
            if (dev.dmwc.daxlib.DeviceLock.inUse(p)) {
                return -1;
            }
            Files.delete(p);
            return a.size();
        }
        if (!a.isDirectory()) {
            return -1;
        }
        List<Path> inside;
        try (java.util.stream.Stream<Path> s = Files.list(p)) {
            inside = s.toList();
        }
        long bytes = 0;
        for (Path f : inside) {
            if (!Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS) || dev.dmwc.daxlib.DeviceLock.inUse(f)) {
                return -1;
            }
            bytes += Files.size(f);
        }
        for (Path f : inside) {
            Files.delete(f);
        }
        Files.delete(p);
        return bytes;
    }

    /**
     * Deletes {@code p} if it exists and forgets it. A regular file is emptied first (its whole range
     * punched out): a deleted file keeps its memory in /dev/shm, or its blocks on disk, until its last
     * mapping goes, and a device's {@link java.nio.MappedByteBuffer}s go only when the garbage
     * collector gets to them, which may be never in a run. A replay sweep over six 1 GiB caches held
     * 7 GiB of /dev/shm by its last run before this (BENCHMARKS.md, replay section). A mapping left
     * reads zeros afterwards; a scratch file is deleted only once nothing uses it.
     */
    public static void delete(Path p) throws IOException {
        try {
            if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                long size = Files.size(p);
                if (size > 0) {
                    SparseFiles.punchHole(p, 0, size); // where it cannot, the GC frees it as before
                }
            }
            Files.deleteIfExists(p);
        } finally {
            RUN.remove(p);
        }
    }

    /** Forgets {@code p}: it outlives the run (the user asked to keep it). */
    public static void keep(Path p) {
        RUN.remove(p);
    }

    interface Maker {
        Path make() throws IOException;
    }

    /** Makes or writes a file and registers it, unless the JVM is stopping. */
    synchronized Path make(Maker m) throws IOException {
        if (stopping) {
            throw new IOException("not making a scratch file: the JVM is stopping");
        }
        Path p = m.make();
        live.add(p.toAbsolutePath());
        return p;
    }

    synchronized void add(Path p) {
        Path a = p.toAbsolutePath();
        live.add(a);
        if (stopping) {
            deleteQuietly(a);
        }
    }

    synchronized void remove(Path p) {
        live.remove(p.toAbsolutePath());
    }

    synchronized boolean registered(Path p) {
        return live.contains(p.toAbsolutePath());
    }

    /** The shutdown hook: deletes every registered file, the longest paths (a directory's files) first. */
    synchronized void deleteAll() {
        stopping = true;
        List<Path> all = new ArrayList<>(live);
        all.sort(Comparator.comparingInt((Path p) -> p.getNameCount()).reversed());
        for (Path p : all) {
            deleteQuietly(p);
        }
    }

    private void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
            live.remove(p);
        } catch (IOException | UncheckedIOException | SecurityException e) {
            // at exit nothing is left to tell; a directory holding files nobody registered stays
        }
    }
}
