package dev.dmwc.writecache.engine;

/**
 * A failed target operation: the errno name and, where the kernel prints one, its text
 * ({@code ti->error} or {@code DMERR}), e.g. {@code EINVAL} / "Invalid block size".
 */
public final class DmError extends Exception {
    private static final long serialVersionUID = 1L;
    private final String errno;
    private final String text;

    public DmError(String errno, String text) {
        super(text == null ? errno : errno + ": " + text);
        this.errno = errno;
        this.text = text;
    }

    public String errno() {
        return errno;
    }

    /** The kernel's text, or null when it printed none. */
    public String text() {
        return text;
    }
}
