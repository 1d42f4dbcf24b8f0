package dev.dmwc.writecache.block;

import java.util.concurrent.TimeUnit;

/** A system tool run by a test helper (mount, losetup): its exit and what it printed, errors included. */
record SystemCommand(int exit, String output) {
    /** Runs {@code cmd} to its end (30 s at most); a tool that cannot start or does not end is exit -1, saying why. */
    static SystemCommand run(String... cmd) throws InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            return new SystemCommand(-1, e.getMessage());
        }
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes());
        } catch (java.io.IOException e) {
            out = e.toString();
        }
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new SystemCommand(-1, "timed out");
        }
        return new SystemCommand(p.exitValue(), out);
    }

    boolean ok() {
        return exit == 0;
    }

    /** Why it failed, for a message: its output and exit. */
    String why() {
        return output.trim() + " (exit " + exit + ")";
    }
}
