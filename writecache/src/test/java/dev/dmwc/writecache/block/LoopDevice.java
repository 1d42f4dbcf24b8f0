package dev.dmwc.writecache.block;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** A loop device over a file, for one test: a real block device. Needs root; without it the test is skipped and says so. */
public final class LoopDevice implements AutoCloseable {
    public final Path path;

    private LoopDevice(Path path) {
        this.path = path;
    }

    /** {@code losetup -f --show file}; skips the test where that is refused. */
    public static LoopDevice attach(Path file) throws Exception {
        String[] out = new String[1];
        int code = run(out, "losetup", "-f", "--show", file.toString());
        if (code != 0) {
            System.err.println("SKIPPED: cannot attach a loop device (" + out[0].trim() + "); block devices are tested where "
                    + "the tests run as root");
            Assumptions.abort("cannot attach a loop device: " + out[0].trim());
        }
        return new LoopDevice(Path.of(out[0].trim()));
    }

    private static int run(String[] out, String... cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            out[0] = e.getMessage();
            return -1;
        }
        out[0] = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            out[0] = "timed out";
            return -1;
        }
        return p.exitValue();
    }

    @Override
    public void close() throws java.io.IOException {
        String[] out = new String[1];
        try {
            if (run(out, "losetup", "-d", path.toString()) != 0) {
                throw new java.io.IOException("losetup -d " + path + ": " + out[0]);
            }
        } catch (java.io.IOException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.IOException("interrupted detaching " + path, e);
        } catch (Exception e) {
            throw new java.io.IOException("detaching " + path + ": " + e, e);
        }
    }
}
