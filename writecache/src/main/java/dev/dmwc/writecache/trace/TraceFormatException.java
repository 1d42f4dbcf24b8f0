package dev.dmwc.writecache.trace;

/** A malformed trace: names the file, the line (or record) and what was expected. */
public final class TraceFormatException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String file;
    private final long position;

    public TraceFormatException(String file, long position, String message) {
        super(file + ":" + position + ": " + message);
        this.file = file;
        this.position = position;
    }

    public String file() {
        return file;
    }

    public long position() {
        return position;
    }
}
