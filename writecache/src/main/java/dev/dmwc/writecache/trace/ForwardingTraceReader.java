package dev.dmwc.writecache.trace;

import java.io.IOException;

/** A reader that passes another's records through, changed or chosen: the format and closing are the other's. */
abstract class ForwardingTraceReader implements TraceReader {
    protected final TraceReader in;

    ForwardingTraceReader(TraceReader in) {
        this.in = in;
    }

    @Override
    public String format() {
        return in.format();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
