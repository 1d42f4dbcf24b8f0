package dev.dmwc.writecache.trace;

import java.io.IOException;

/** A stream of trace records. */
public interface TraceReader extends AutoCloseable {
    /**
     * Read the next record into {@code r}; false at the end. A malformed line throws
     * {@link TraceFormatException} after which the reader may continue with the next line
     * (the caller decides, {@code --skip-bad}).
     */
    boolean next(TraceRecord r) throws IOException, TraceFormatException;

    /** The format's name as {@code --format} spells it. */
    String format();

    @Override
    void close() throws IOException;
}
