package dev.dmwc.writecache.cli;

import dev.dmwc.writecache.replay.Replayer;
import java.io.PrintStream;
import java.util.Locale;

/** A progress bar with rate and ETA on a terminal; a plain line every 10 s otherwise. */
final class ProgressBar implements Replayer.Progress {
    private final PrintStream out;
    private final boolean terminal;
    private final String what;
    private double lastPlain = -10;

    ProgressBar(PrintStream out, boolean terminal, String what) {
        this.out = out;
        this.terminal = terminal;
        this.what = what;
    }

    static ProgressBar forStderr(String what, boolean quiet) {
        return quiet ? null : new ProgressBar(System.err, System.console() != null, what);
    }

    @Override
    public void update(long done, long total, double seconds) {
        double rate = seconds > 0 ? done / seconds : 0;
        double frac = total > 0 ? Math.min(1, (double) done / total) : 0;
        String eta = rate > 0 && total > done ? String.format(Locale.ROOT, "ETA %.0fs", (total - done) / rate) : "";
        if (terminal) {
            int width = 30;
            int fill = (int) (frac * width);
            out.printf(Locale.ROOT, "\r%s [%s%s] %3.0f%% %d/%d, %s/s %s   ", what, "=".repeat(fill), " ".repeat(width - fill),
                    frac * 100, done, total, human(rate), eta);
            out.flush();
        } else if (seconds - lastPlain >= 10 || done == total) {
            lastPlain = seconds;
            out.printf(Locale.ROOT, "%s: %d/%d (%.0f%%), %s/s %s%n", what, done, total, frac * 100, human(rate), eta);
        }
    }

    @Override
    public void done() {
        if (terminal) {
            out.println();
        }
    }

    @Override
    public void warn(String message) {
        out.printf("%s%s: warning: %s%n", terminal ? "\r" : "", what, message);
    }

    private static String human(double r) {
        return r >= 1e6 ? String.format(Locale.ROOT, "%.2fM", r / 1e6) : r >= 1e3 ? String.format(Locale.ROOT, "%.1fk", r / 1e3)
                : String.format(Locale.ROOT, "%.0f", r);
    }
}
