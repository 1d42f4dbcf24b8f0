package dev.dmwc.writecache.replay;

/**
 * A request to end a replay early (Ctrl-C, kill): the replay stops before its next request, waits
 * for those in flight, and reports what it replayed, saying it was stopped. A sweep runs no
 * further combination.
 */
public final class StopRequest {
    private volatile String by;

    /** Asks the replay to stop; {@code by} names why (e.g. "SIGINT"). The first request counts. */
    public void request(String by) {
        if (this.by == null) {
            this.by = by;
        }
    }

    public boolean requested() {
        return by != null;
    }

    /** What asked, or null. */
    public String by() {
        return by;
    }
}
