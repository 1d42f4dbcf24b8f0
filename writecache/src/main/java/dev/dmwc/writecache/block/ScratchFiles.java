package dev.dmwc.writecache.block;

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

    /** A new empty file in {@code dir} ({@link Files#createTempFile}), registered. */
    public static Path createFile(Path dir, String prefix, String suffix) throws IOException {
        return RUN.make(() -> Files.createTempFile(dir, prefix, suffix));
    }

    /** A new empty directory in {@code dir} ({@link Files#createTempDirectory}), registered. */
    public static Path createDirectory(Path dir, String prefix) throws IOException {
        return RUN.make(() -> Files.createTempDirectory(dir, prefix));
    }

    /** {@link Files#write(Path, byte[], java.nio.file.OpenOption...)} of a scratch file, which is registered. */
    public static void write(Path p, byte[] data) throws IOException {
        RUN.make(() -> Files.write(p, data));
    }

    /**
     * The scratch devices of {@code serve} and {@code bench} in {@code dir}: {@code dmwc-PID-origin.img},
     * {@code dmwc-PID-cache.img}, {@code dmwc-PID-bench-copyN.img}, named by the process that made them.
     */
    private static final java.util.regex.Pattern DEVICE_SCRATCH =
            java.util.regex.Pattern.compile("dmwc-(\\d+)-(origin\\.img|cache\\.img|bench-copy\\d*\\.img)");

    /** The name prefix of this process's scratch devices ({@link #removeStale}). */
    public static String devicePrefix() {
        return "dmwc-" + ProcessHandle.current().pid() + "-";
    }

    /**
     * Removes the scratch devices in {@code dir} whose process is gone: one killed with SIGKILL (or
     * lost with its machine's power) ran no exit hook, and left up to gigabytes in /dev/shm, which is
     * memory. Files of a process still alive are kept, whatever that process is now. Returns a line
     * per file removed, for the caller to say.
     */
    public static List<String> removeStale(Path dir) {
        List<String> removed = new ArrayList<>();
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                java.util.regex.Matcher m = DEVICE_SCRATCH.matcher(p.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                long pid;
                try {
                    pid = Long.parseLong(m.group(1));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).isPresent() || !Files.isRegularFile(p)) {
                    continue;
                }
                try {
                    long bytes = Files.size(p);
                    Files.delete(p);
                    removed.add(String.format(java.util.Locale.ROOT, "%s (%,d MiB), left by dmwc process %d, which is gone", p,
                            bytes >> 20, pid));
                } catch (IOException e) {
                    // another process removed it first, or it is not ours to remove: left as it is
                }
            }
        } catch (IOException | UncheckedIOException e) {
            // an unreadable directory: nothing to sweep
        }
        return removed;
    }

    /** Deletes {@code p} if it exists and forgets it. */
    public static void delete(Path p) throws IOException {
        try {
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
