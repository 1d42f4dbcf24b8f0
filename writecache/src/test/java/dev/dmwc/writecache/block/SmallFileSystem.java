package dev.dmwc.writecache.block;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * A tmpfs of a few MiB mounted for one test, to fill up: where a store into a hole of a shared
 * mapping raises SIGBUS. Mounting needs root (or CAP_SYS_ADMIN); without it the test is skipped
 * and says so on stderr.
 */
public final class SmallFileSystem implements AutoCloseable {
    public final Path dir;

    private SmallFileSystem(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code mib} MiB on a new directory under {@code parent}; skips the test where that is refused. */
    public static SmallFileSystem mount(Path parent, int mib) throws Exception {
        Path d = Files.createTempDirectory(parent, "small-fs-");
        String why = run("mount", "-t", "tmpfs", "-o", "size=" + mib + "m", "tmpfs", d.toString());
        if (why != null) {
            Files.deleteIfExists(d);
            System.err.println("SKIPPED: cannot mount a small tmpfs to fill (" + why.trim() + "); a full file system is "
                    + "tested where the tests run as root");
            Assumptions.abort("cannot mount a tmpfs: " + why.trim());
        }
        return new SmallFileSystem(d);
    }

    /** Makes it read-only (what is on it stays). */
    public void remountReadOnly() throws Exception {
        String why = run("mount", "-o", "remount,ro", dir.toString());
        if (why != null) {
            throw new IllegalStateException("remount ro " + dir + ": " + why);
        }
    }

    /** null when the command succeeded, else why not. */
    private static String run(String... cmd) throws InterruptedException {
        SystemCommand c = SystemCommand.run(cmd);
        return c.ok() ? null : c.why();
    }

    @Override
    public void close() throws java.io.IOException {
        String why;
        try {
            why = run("umount", "-l", dir.toString()); // lazy: a MappedByteBuffer stays mapped until it is collected
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            why = "interrupted";
        }
        if (why != null) {
            throw new IllegalStateException("umount " + dir + ": " + why);
        }
        Files.deleteIfExists(dir);
    }
}
