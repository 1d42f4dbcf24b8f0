package dev.dmwc.writecache.block;

import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** A loop device over a file, for one test: a real block device. Needs root; without it the test is skipped and says so. */
public final class LoopDevice implements AutoCloseable {
    public final Path path;

    private LoopDevice(Path path) {
        this.path = path;
    }

    /** {@code losetup -f --show file}; skips the test where that is refused. */
    public static LoopDevice attach(Path file) throws Exception {
        SystemCommand c = SystemCommand.run("losetup", "-f", "--show", file.toString());
        if (!c.ok()) {
            System.err.println("SKIPPED: cannot attach a loop device (" + c.why() + "); block devices are tested where "
                    + "the tests run as root");
            Assumptions.abort("cannot attach a loop device: " + c.why());
        }
        return new LoopDevice(Path.of(c.output().trim()));
    }

    @Override
    public void close() throws java.io.IOException {
        SystemCommand c;
        try {
            c = SystemCommand.run("losetup", "-d", path.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.IOException("interrupted detaching " + path, e);
        }
        if (!c.ok()) {
            throw new java.io.IOException("losetup -d " + path + ": " + c.why());
        }
    }
}
